"""Write tests/data/verify_heldout.jsonl: hand-written (gold, output, correct) pairs in wordings
that tests/data/make_verify_labelled.py does not use, for bench/verify.py.

    python tests/data/make_verify_heldout.py

The labelled set was the verifier's development target while issue 13 was worked on; these pairs
were written afterwards, in other phrasings, languages (also Portuguese and Korean) and answer
shapes, so the bench can show how far its agreement carries to output it was not tuned on. Same
categories, half right answers and half near-misses; each label was checked by hand.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "verify_heldout.jsonl"
R = random.Random(2026)

# (category, question, working, gold, right ending, wrong ending[, note])
PAIRS = [
    ("answer_in_prose", "Lena found 17 shells on Monday and 25 on Tuesday. How many shells in all?",
     "Adding these up: 17 + 25 = 42.", "42", "So, in total, Lena collected 42 shells.", "So, in total, Lena collected 43 shells."),
    ("answer_in_prose", "Of 180 students, 70% passed. How many passed?", "70% of 180 is 0.7 × 180.", "126",
     "The number of students who passed is **126**.", "The number of students who passed is **125**."),
    ("answer_in_prose", "Find the smallest integer n > 1 with n ≡ 1 (mod 5) and n ≡ 2 (mod 3).", "Try 6: 6 mod 3 = 0. Try 11: 11 mod 3 = 2.", "11",
     "Thus the smallest such integer is 11.", "Thus the smallest such integer is 13."),
    ("answer_in_prose", "Two painters take 10 and 15 days alone. How long together?", "Rates: 1/10 + 1/15 = 1/6 of the job per day.", "6",
     "It will take them 6 days to finish the job together.", "It will take them 5 days to finish the job together."),
    ("answer_in_prose", "Find n such that n + 2n + 3n = 90.", "6n = 90.", "15",
     "We conclude that $n = 15$ satisfies all the conditions, and it is the only one.", "We conclude that $n = 16$ satisfies all the conditions, and it is the only one."),
    ("answer_in_prose", "A car drives 350 km a day for 7 days. How far does it go?", "350 × 7 = 2,450.", "2450",
     "**Total = 2,450 km**", "**Total = 2,540 km**"),
    ("answer_in_prose", "Three coins are tossed. What is the probability of exactly one head?", "There are 3 favourable outcomes out of 8.", "\\frac{3}{8}",
     "The probability is therefore 3/8.", "The probability is therefore 5/8."),
    ("answer_in_prose", "She has 47 books and boxes hold 6. How many boxes does she need?", "47 / 6 = 7.83, so 8 boxes are needed in all.", "8",
     "Result: she needs 8 boxes.", "Result: she needs 7 boxes."),
    ("several_boxes", "Solve $x^2 - 2x - 3 = 0$.", "It factors as $(x+1)(x-3)$.", "-1, 3",
     "Both roots check out: $\\boxed{-1}$ and $\\boxed{3}$.", "Both roots check out: $\\boxed{1}$ and $\\boxed{3}$."),
    ("several_boxes", "Solve $x + y = 3$, $x - y = 5$.", "Adding, $2x = 8$.", "(4, -1)",
     "We get $x=\\boxed{4}$, $y=\\boxed{-1}$.", "We get $x=\\boxed{-1}$, $y=\\boxed{4}$.", "boxes after x= and y= read in order"),
    ("several_boxes", "Solve $2x^2 - 5x + 2 = 0$.", "It factors as $(2x-1)(x-2)$.", "\\frac{1}{2}, 2",
     "$$\\boxed{\\tfrac12} \\quad\\text{or}\\quad \\boxed{2}$$", "$$\\boxed{-\\tfrac12} \\quad\\text{or}\\quad \\boxed{2}$$"),
    ("several_boxes", "How many integers n satisfy 3 ≤ n ≤ 9?", "Count from 3 to 9.", "7",
     "First pass: 9 − 3 = $\\boxed{6}$. Hmm, I made an error: the count is inclusive. Redoing the count gives $\\boxed{7}$.",
     "First pass: $\\boxed{7}$. Hmm, I think I made an error: I should just subtract. Redoing the count gives $\\boxed{6}$.",
     "a box corrected after 'I made an error': the last one is the answer"),
    ("wrong_span", "A square pyramid has base side 10 and slant height 13. Find its volume.", "The height is $\\sqrt{13^2 - 5^2}$.", "400",
     "The height is $\\boxed{12}$, so the volume is $\\frac13 \\cdot 100 \\cdot 12 = 400$.\n\nFinal answer: 400",
     "The height is $\\boxed{12}$, so the volume is $100 \\cdot 12 = 1200$.\n\nFinal answer: 1200"),
    ("wrong_span", "Part (a): find x. Part (b): find 2x - 2 (the final answer).", "From (a), x = 5.", "8",
     "Answer to part (a): 5.\n\nFor part (b), 2 · 5 − 2 = 8.\n\n**Final Answer:** 8", "Answer to part (a): 5.\n\nFor part (b), 2 · 5 + 2 = 12.\n\n**Final Answer:** 12"),
    ("wrong_span", "How many positive divisors does 48 have?", "48 = 2^4 · 3, so (4+1)(1+1).", "10",
     "I initially boxed \\boxed{9}, but rechecking, (4+1)(1+1) = 10. The correct answer is 10.",
     "I initially boxed \\boxed{10}, but rechecking, I only count the proper ones. The correct answer is 9."),
    ("wrong_span", "Compute 4 cubed.", "4 × 4 × 4.", "64",
     "**Answer: 64**\n\nTo verify, 4^3 = 6", "**Answer: 46**\n\nTo verify, 4^3 = 6", "cut off after the answer: the answer stands"),
    ("non_english", "Calculez 5 × 7.", "5 × 7 = 35.", "35", "Ainsi, le résultat final est $\\boxed{35}$.", "Ainsi, le résultat final est $\\boxed{53}$."),
    ("non_english", "Löse $3x - 2 = 10$.", "3x = 12.", "4", "Also beträgt die Lösung $x = 4$.", "Also beträgt die Lösung $x = -4$."),
    ("non_english", "Juan tiene 9 canicas y gana 8. ¿Cuántas tiene?", "9 + 8 = 17.", "17", "Por lo tanto, Juan tiene 17 canicas.", "Por lo tanto, Juan tiene 71 canicas."),
    ("non_english", "化简 $\\frac{6}{10}$。", "分子分母同除以 2。", "\\frac{3}{5}", "因此，所求的值为 $\\frac{3}{5}$。", "因此，所求的值为 $\\frac{5}{3}$。"),
    ("non_english", "Решите $2x = 5$.", "Делим на 2.", "2.5", "Ответ: $x = 2{,}5$.", "Ответ: $x = 5{,}2$.", "decimal comma in Russian"),
    ("non_english", "في الصف 14 ولدًا و14 بنتًا. كم عدد الطلاب؟", "14 + 14 = 28", "28", "إذن، عدد الطلاب هو 28.", "إذن، عدد الطلاب هو 82."),
    ("non_english", "एक कलम 45 रुपये की है। 10 कलमों की कीमत?", "45 × 10 = 450", "450", "इसलिए, कुल लागत 450 रुपये है।", "इसलिए, कुल लागत 540 रुपये है।"),
    ("non_english", "$\\tan 60^\\circ$ を求めなさい。", "30-60-90 の三角形を使います。", "\\sqrt{3}", "したがって、求める値は $\\sqrt{3}$ です。", "したがって、求める値は $\\sqrt{2}$ です。"),
    ("non_english", "Quanto é 3 × 4?", "3 × 4 = 12.", "12", "Portanto, a resposta é 12.", "Portanto, a resposta é 21.", "Portuguese"),
    ("non_english", "4 × 6은 얼마입니까?", "4 × 6 = 24.", "24", "따라서 답은 24입니다.", "따라서 답은 42입니다.", "Korean"),
    ("relations", "Find BC with B = (0, 0), C = (4, 6).", "BC² = 16 + 36 = 52.", "2\\sqrt{13}", "So $BC = 2\\sqrt{13}$.", "So $BC = 2\\sqrt{3}$."),
    ("relations", "Let $g(x) = x^3 - 3$. Find $g(-1)$.", "$(-1)^3 = -1$.", "-4", "Hence $g(-1) = -4$.", "Hence $g(-1) = 4$."),
    ("relations", "P(A) = 0.5, P(B) = 0.4, P(A ∩ B) = 0.2. Find P(A ∪ B).", "Inclusion–exclusion.", "0.7",
     "Therefore $P(A \\cup B) = 0.7$.", "Therefore $P(A \\cup B) = 0.9$."),
    ("relations", "Solve $4x = 12$.", "Divide both sides.", "3", "$$x = \\frac{12}{4} = 3$$", "$$x = \\frac{12}{3} = 4$$"),
    ("relations", "Find the radius of a circle of area $5\\pi$, to two decimals.", "$r^2 = 5$.", "\\sqrt{5}", "So $r \\approx 2.24$.", "So $r \\approx 2.26$.",
     "\\approx at the precision written"),
    ("relations", "Find the coefficients of $x^2 - 2x + 3$ as $(a, b, c)$.", "Read them off.", "(1, -2, 3)", "$a=1$, $b=-2$, $c=3$.", "$a=1$, $b=2$, $c=-3$."),
    ("unknown_latex", "Simplify $\\frac{\\sqrt{6}}{3}$ another way.", "Move the 3 inside the root.", "\\frac{\\sqrt{6}}{3}",
     "The answer is $\\sqrt{\\frac{2}{3}}$.", "The answer is $\\sqrt{\\frac{3}{2}}$."),
    ("unknown_latex", "Find the angle whose tangent is 1, in radians.", "tan is 1 at 45 degrees.", "\\frac{\\pi}{4}",
     "**Answer:** $\\arctan 1$", "**Answer:** $\\arcsin 1$"),
    ("unknown_latex", "Find the determinant of $\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}$.", "ad − bc.", "-2",
     "$$\\det\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix} = -2$$", "$$\\det\\begin{pmatrix}2&1\\\\3&4\\end{pmatrix} = 5$$"),
    ("unknown_latex", "Evaluate $\\lim_{x \\to 0} \\frac{\\sin x}{x}$.", "Standard limit.", "1",
     "The answer is $\\lim_{x\\to0}\\frac{\\sin x}{x} = 1$.", "The answer is $\\lim_{x\\to\\infty}\\frac{\\sin x}{x} = 0$."),
    ("unknown_latex", "How many 3-element subsets does a 7-element set have?", "Choose 3 of 7.", "35", "So there are $\\dbinom{7}{3}$.", "So there are $\\dbinom{7}{2}$."),
    ("unknown_latex", "Solve $x^4 = 16$ for $x > 0$.", "Fourth root.", "2", "Thus $x = \\sqrt[4]{16}$.", "Thus $x = \\sqrt[4]{32}$."),
    ("unknown_latex", "Solve $3^x = 81$.", "Take $\\log_3$.", "4", "Therefore $x = \\log_{3} 81$.", "Therefore $x = \\log_{3} 27$."),
    ("unknown_latex", "Find the length of segment AB.", "Use the distance formula.", "5", "So $\\overline{AB} = 5$.", "So $\\overline{AB} = 6$."),
    ("numbers", "What is 1/6 as a decimal to four places?", "1/6 = 0.16666…", "\\frac{1}{6}", "≈ 0.1667, so the answer is $0.1667$.", "≈ 0.1676, so the answer is $0.1676$."),
    ("numbers", "Find the probability of 100 heads in 100 fair tosses.", "(1/2)^100.", "\\frac{1}{4^{50}}",
     "The final answer is $2^{-100}$.", "The final answer is $2^{-99}$.", "1/4^50 = 2^-100 exactly"),
    ("numbers", "What is the usual modulus in programming contests?", "A prime just above a billion.", "1000000007",
     "It is $10^9 + 7$.", "It is $10^9 + 9$."),
    ("numbers", "Write $4\\frac{2}{5}$ as a decimal.", "2/5 = 0.4.", "4\\frac{2}{5}", "The answer is $4.4$.", "The answer is $\\frac{8}{5}$.",
     "a mixed number gold"),
    ("numbers", "What is the ratio of boys to girls, 12 boys and 16 girls?", "12:16 simplifies by 4.", "3:4", "The ratio is 3 to 4.", "The ratio is 4 to 3."),
    ("numbers", "The bus leaves at 7:15 and the trip takes 30 minutes. When does it arrive?", "7:15 + 0:30.", "7:45",
     "It arrives at 7:45 a.m.", "It arrives at 7:54 a.m.", "a clock time"),
    ("numbers", "What percent is 18 of 150?", "18/150 = 0.12.", "12\\%", "**Answer:** 0.12", "**Answer:** 0.012", "percent policy 'either'"),
    ("numbers", "How many seats are in 50 rows of 50?", "50 × 50.", "2,500", "The stadium section has 2500 seats.", "The stadium section has 250 seats.",
     "a gold with a thousands comma"),
    ("numbers", "Write 1/20 in scientific notation.", "1/20 = 0.05.", "0.05", "The answer is $5 \\times 10^{-2}$.", "The answer is $5 \\times 10^{-3}$."),
    ("sets_tuples", "Solve $x^3 = 4x$.", "x(x-2)(x+2) = 0.", "\\{-2, 0, 2\\}", "So $x \\in \\{0, \\pm 2\\}$.", "So $x \\in \\{0, 2\\}$."),
    ("sets_tuples", "Where do $y = x$ and $y = x^2$ meet?", "x = x^2 gives x = 0 or 1.", "(0,0), (1,1)", "They meet at $(1,1)$ and $(0,0)$.", "They meet at $(0,0)$ and $(1,-1)$."),
    ("sets_tuples", "Find the roots of $(x-1)(x-2)(x-3)$.", "Each factor vanishes once.", "1, 2, 3", "The roots are $x=1$, $x=2$, and $x=3$.", "The roots are $x=1$, $x=2$, and $x=4$."),
    ("sets_tuples", "Find the intersection of $x + y = 5$ and $x - y = -1$.", "2x = 4.", "(2, 3)", "The point is (2, 3).", "The point is (3, 2)."),
    ("intervals_inequalities", "Find all x with $|x - 1| \\le 4$ and $x > -3$.", "$|x - 1| \\le 4$ means $-3 \\le x \\le 5$; then drop $-3$.", "(-3, 5]",
     "Therefore $-3 < x \\leq 5$.", "Therefore $-3 \\leq x \\leq 5$."),
    ("intervals_inequalities", "Find the domain of $\\sqrt{x}$.", "The radicand must be non-negative.", "[0, \\infty)", "The domain is $x \\geq 0$.", "The domain is $x > 0$."),
    ("intervals_inequalities", "Solve $(x-1)(x-2) > 0$.", "Outside the roots.", "(-\\infty, 1) \\cup (2, \\infty)",
     "Hence $x \\in (-\\infty,1)\\cup(2,+\\infty)$.", "Hence $x \\in (-\\infty,1]\\cup[2,+\\infty)$."),
    ("intervals_inequalities", "Find each exterior angle of a regular pentagon.", "360 / 5.", "72^\\circ", "Each exterior angle is 72°.", "Each exterior angle is 108°."),
    ("intervals_inequalities", "Find the area of a 3 m by 5 m rug.", "3 × 5.", "15", "The rug covers $15\\ \\text{m}^2$.", "The rug covers $51\\ \\text{m}^2$."),
    ("gold_from_solution", "Find AB in a right triangle with legs 6 and 8.", "Pythagoras.",
     "By the Pythagorean theorem, $AB^2 = 6^2 + 8^2 = 100$. Therefore $AB = \\boxed{10}$.", "So $AB = 10$.", "So $AB = 8$."),
    ("gold_from_solution", "Solve $2x^2 - 5x - 3 = 0$.", "Factor.",
     "Factoring, $(x-3)(2x+1) = 0$, so $x = \\boxed{3}$ or $x = \\boxed{-\\tfrac{1}{2}}$.", "$x = 3, -1/2$", "$x = 3$"),
    ("gold_from_solution", "Find the minimum of $x^2 - 3x + 4.5$.", "Complete the square.",
     "We have $x^2 - 3x + 4.5 = (x - \\tfrac32)^2 + \\tfrac94$, so the minimum is $\\boxed{\\dfrac{9}{4}}$.", "The minimum value is 2.25.", "The minimum value is 2.5."),
    ("multiple_choice_text_unicode", "Which option is correct? (A) 1 (B) 2 (C) 3 (D) 4", "Only (C) satisfies both conditions.", "C",
     "So the answer must be (C).", "So the answer must be (B)."),
    ("multiple_choice_text_unicode", "Which is largest? (A)…(E)", "Compare the five values.", "\\text{(E)}", "The correct choice is **E**.", "The correct choice is **D**."),
    ("multiple_choice_text_unicode", "Can 7 be written as a sum of two even numbers?", "Even plus even is even.", "\\text{no}",
     "No, it is not possible.", "Yes, it is possible."),
    ("multiple_choice_text_unicode", "Compute 1/4 − 1/2.", "1/4 − 2/4.", "-\\frac{1}{4}", "Answer: −¼", "Answer: ¼"),
    ("multiple_choice_text_unicode", "Find the height of an equilateral triangle with side 4.", "h = (√3/2)·4.", "2\\sqrt{3}", "Answer: 2√3", "Answer: 3√2"),
    ("multiple_choice_text_unicode", "What fraction of an hour is 40 minutes?", "40/60.", "\\frac{2}{3}", "Answer: ⅔", "Answer: ⅓"),
]

# Second batch, written after the first had been committed.
PAIRS += [
    ("answer_in_prose", "A pump moves 40 litres a minute. How many litres does it move in 12 minutes?", "40 × 12 = 480.", "480",
     "Bottom line: the tank holds 480 liters after 12 minutes.", "Bottom line: the tank holds 408 liters after 12 minutes."),
    ("answer_in_prose", "Sam is twice as old as Ana, who is 7. How old is Sam?", "2 × 7.", "14", "That means Sam is 14 years old.", "That means Sam is 15 years old."),
    ("answer_in_prose", "Nine people shake hands once with each other. How many handshakes?", "Each pair once: 9 · 8 / 2.", "36",
     "I get a final count of 36 handshakes, which matches n(n−1)/2 for n = 9.", "I get a final count of 72 handshakes, which is n(n−1) for n = 9."),
    ("answer_in_prose", "Four tickets cost $24 each. What is the total?", "4 × 24 = 96.", "96",
     "| Quantity | Value |\n|---|---|\n| Tickets | 4 |\n| Total cost | **$96** |\n\nSo the total cost is **$96**.",
     "| Quantity | Value |\n|---|---|\n| Tickets | 4 |\n| Total cost | **$69** |\n\nSo the total cost is **$69**."),
    ("several_boxes", "Find the critical points of $x^3 - 6x^2$.", "$f'(x) = 3x^2 - 12x = 3x(x - 4)$.", "0, 4",
     "The critical points are at $x=\\boxed{0}$ and $x=\\boxed{4}$.", "The critical points are at $x=\\boxed{0}$ and $x=\\boxed{-4}$."),
    ("several_boxes", "Find $(m, n)$ with $m + n = 8$ and $n - m = 2$.", "Adding, $2n = 10$.", "(3, 5)",
     "So $m = \\boxed{3}$ and $n = \\boxed{5}$.", "So $m = \\boxed{5}$ and $n = \\boxed{3}$."),
    ("wrong_span", "A bag has 12 balls, 5 of them red. How many are blue (the rest)?", "12 − 5.", "7",
     "There are $\\boxed{5}$ red balls, so the answer (the number of blue balls) is 7.", "There are $\\boxed{7}$ blue balls... no wait, re-reading, blue ones are 5 and red are 7, so the answer is 5."),
    ("wrong_span", "What is 6 + 7?", "Count on from 6.", "13", "<think>\nThe answer is 12.\n</think>\n\nAfter reconsidering, the answer is 13.",
     "<think>\nThe answer is 13.\n</think>\n\nAfter reconsidering, the answer is 12."),
    ("non_english", "Résoudre $2x + 3 = 0$.", "$2x = -3$.", "-\\frac{3}{2}", "La valeur cherchée est donc $-\\frac{3}{2}$.", "La valeur cherchée est donc $\\frac{3}{2}$."),
    ("non_english", "Wie viel Prozent sind 3 von 40?", "3/40 = 0,075.", "7.5\\%", "Ergebnis: **7,5 %**", "Ergebnis: **5,7 %**", "decimal comma and a percent sign"),
    ("non_english", "Resuelve $x - 4 = 5$.", "Sumamos 4.", "9", "**Solución:** $x = 9$", "**Solución:** $x = -9$"),
    ("non_english", "小明有 5 个苹果，又买了 7 个。他现在有几个？", "5 + 7 = 12。", "12", "答：小明有 12 个苹果。", "答：小明有 21 个苹果。"),
    ("non_english", "Пешеход идёт 45 минут со скоростью 4 км/ч. Сколько он прошёл?", "4 · 0,75 = 3.", "3", "Ответ: 3 км.", "Ответ: 4 км."),
    ("non_english", "サイコロを1回振って6が出る確率は？", "6通りのうち1通り。", "\\frac{1}{6}", "答：$\\frac{1}{6}$", "答：$\\frac{1}{3}$"),
    ("non_english", "Quanto fa 2 × 4?", "2 × 4 = 8.", "8", "Quindi la risposta è 8.", "Quindi la risposta è 9.", "Italian"),
    ("non_english", "5 × 3 bằng bao nhiêu?", "5 × 3 = 15.", "15", "Vậy đáp án là 15.", "Vậy đáp án là 51.", "Vietnamese"),
    ("non_english", "4 × 5 kaçtır?", "4 × 5 = 20.", "20", "Cevap: 20", "Cevap: 30", "Turkish"),
    ("relations", "Let $f(x) = 2x - 1$. Find $f^{-1}(3)$.", "Solve $2x - 1 = 3$.", "2", "So $f^{-1}(3) = 2$.", "So $f^{-1}(3) = \\frac{1}{2}$."),
    ("relations", "In triangle ABC, angle B = 90° and angle C = 55°. Find angle A.", "180 − 90 − 55.", "35", "Thus $\\angle A = 35^\\circ$.", "Thus $\\angle A = 55^\\circ$."),
    ("relations", "An arithmetic sequence starts 2, 5, 8. Find its 10th term.", "$a_n = 2 + 3(n - 1)$.", "29", "Hence $a_{10} = 29$.", "Hence $a_{10} = 32$."),
    ("relations", "Find $z$ with $z + \\bar z = 2$ and $z - \\bar z = -2i$.", "Real part 1, imaginary part −1.", "1 - i", "Therefore $z = 1 - i$.", "Therefore $z = 1 + i$."),
    ("unknown_latex", "How many pairs can be chosen from 5?", "Choose 2.", "10", "The answer is $\\tbinom{5}{2}$.", "The answer is $\\tbinom{5}{1}$."),
    ("unknown_latex", "Compute $|{-7}|$.", "Drop the sign.", "7", "So it is $\\left\\lvert -7 \\right\\rvert = 7$.", "So it is $\\left\\lvert -7 \\right\\rvert - 1 = 6$."),
    ("unknown_latex", "Evaluate $e^{i\\pi}$.", "Euler's formula.", "-1", "We get $\\mathrm{e}^{i\\pi} = -1$.", "We get $\\mathrm{e}^{i\\pi/2} = i$."),
    ("unknown_latex", "Evaluate the continued fraction $1/(1 + 1/2)$.", "Inner part first.", "\\frac{2}{3}", "It equals $\\cfrac{1}{1+\\cfrac{1}{2}}$.", "It equals $\\cfrac{1}{2+\\cfrac{1}{2}}$."),
    ("unknown_latex", "Simplify $\\sqrt{\\sqrt{16}}$.", "Inner root first.", "2", "**Answer:** $\\sqrt{\\sqrt{16}} = 2$", "**Answer:** $\\sqrt{\\sqrt{8}}$"),
    ("unknown_latex", "How many ways to choose 2 of 6?", "Binomial coefficient.", "15", "So ${6 \\choose 2} = 15$.", "So ${6 \\choose 3} = 20$."),
    ("numbers", "Write 5/8 as a decimal.", "5 ÷ 8.", "\\frac{5}{8}", "5/8 = 0.625", "5/8 = 0.652"),
    ("numbers", "Square 1 has 1 grain and each square has twice the one before. How many grains are on square 65?", "$2^{64}$.", "2^{64}", "That is 18446744073709551616 grains.", "That is 18446744073709551615 grains.",
     "big integers compare exactly"),
    ("numbers", "Write $-1\\frac{1}{3}$ as an improper fraction.", "$-(1 + \\frac13)$.", "-1\\frac{1}{3}", "The answer is $-\\frac{4}{3}$.", "The answer is $-\\frac{2}{3}$.",
     "a negative mixed number is minus the whole of it"),
    ("numbers", "The meeting starts at 12:45 and lasts 45 minutes. When does it end?", "12:45 + 0:45.", "1:30", "It ends at 1:30 PM.", "It ends at 1:03 PM.", "a clock time"),
    ("numbers", "Divide 11 by 2.", "11 / 2.", "5.5", "The answer is $5\\frac12$.", "The answer is $5\\frac15$."),
    ("sets_tuples", "Where does $x^2 + y^2 = 1$ meet the x-axis?", "Set $y = 0$.", "(-1, 0), (1, 0)", "At $(\\pm 1, 0)$.", "At $(0, \\pm 1)$."),
    ("sets_tuples", "List the perfect squares below 10.", "1, 4, 9.", "\\{1, 4, 9\\}", "They are 1, 4, 9.", "They are 1, 4, 8."),
    ("sets_tuples", "Solve $x + y + z = 6$, $y = 2$, $z = 3$.", "Substitute.", "(1, 2, 3)", "So $x=1, y=2, z=3$.", "So $x=1, y=3, z=2$."),
    ("intervals_inequalities", "When is $(t-1)(t-4) \\le 0$?", "Between the roots.", "[1, 4]", "For $1 \\le t \\le 4$.", "For $1 < t < 4$."),
    ("intervals_inequalities", "Solve $x + 2 > 0$.", "Subtract 2.", "(-2, \\infty)", "The answer: $x > -2$.", "The answer: $x < -2$."),
    ("intervals_inequalities", "What is the acceleration due to gravity, to one decimal?", "Standard value.", "9.8", "About $9.8\\ \\mathrm{m/s^2}$.", "About $8.9\\ \\mathrm{m/s^2}$."),
    ("intervals_inequalities", "Find the angle with cosine 1/2 in the first quadrant.", "cos is 1/2 at 60°.", "\\frac{\\pi}{3}",
     "The angle is $\\frac{\\pi}{3}$ radians.", "The angle is $\\frac{\\pi}{6}$ radians."),
    ("gold_from_solution", "Solve $x + y = 12$, $y = 2x$.", "Substitute.",
     "Substituting, $3x = 12$, so $x = \\boxed{4}$. Then $y = 2x = \\boxed{8}$.", "So $x = 4$, $y = 8$.", "So $x = 4$, $y = 6$."),
    ("gold_from_solution", "Which choice is right?", "Check each choice.", "Only (B) survives all three tests. The answer is $\\boxed{\\text{(B)}}$.",
     "The answer is B.", "The answer is C."),
    ("multiple_choice_text_unicode", "Which statement holds? (A) … (D)", "Test each.", "\\text{A}", "Option A is correct because the others fail for n = 1.",
     "Option C is correct because the others fail for n = 1."),
    ("multiple_choice_text_unicode", "Is $f(x) = x^3 - x$ even, odd or neither?", "$f(-x) = -f(x)$.", "\\text{odd}", "Therefore f is an odd function.",
     "Therefore f is an even function."),
    ("multiple_choice_text_unicode", "Solve 3x + 6 = 0.", "3x = −6.", "-2", "So x = −2.", "So x = 2."),
    ("multiple_choice_text_unicode", "What fraction of a pizza is one of 8 equal slices?", "One out of eight.", "\\frac{1}{8}", "Answer: ⅛", "Answer: ⅙"),
    ("multiple_choice_text_unicode", "Square π.", "π · π.", "\\pi^2", "Answer: π²", "Answer: 2π"),
]

# Third batch, written after the second had been committed, measured at the end of the session.
PAIRS += [
    ("answer_in_prose", "A jar has 8 bags of 7 marbles. How many marbles?", "8 × 7 = 56.", "56",
     "...which gives us our answer of 56 marbles.", "...which gives us our answer of 65 marbles."),
    ("answer_in_prose", "A bag has 3 red and 4 blue marbles. How many marbles?", "Add the colours.", "7",
     "Final tally: 3 red plus 4 blue, so 7 marbles in the bag.", "Final tally: 3 red plus 4 blue, so 8 marbles in the bag."),
    ("answer_in_prose", "Ana eats 1/4 of a pizza. How much is left?", "1 − 1/4.", "\\frac{3}{4}",
     "She ends up with $\\frac{3}{4}$ of the pizza.", "She ends up with $\\frac{1}{4}$ of the pizza."),
    ("answer_in_prose", "What is 6 × 7?", "Six sevens.", "42", "The answer is: forty-two.", "The answer is: forty-three.", "a number in words"),
    ("answer_in_prose", "A garden is 9 m by 6 m. What is its area?", "9 × 6.", "54",
     "**Conclusion:** The garden's area is $54\\,\\text{m}^2$.", "**Conclusion:** The garden's area is $45\\,\\text{m}^2$."),
    ("several_boxes", "Solve $2x^2 + 5x - 3 = 0$.", "It factors as $(2x - 1)(x + 3)$.", "-3, \\frac{1}{2}",
     "$\\boxed{x=-3}$ or $\\boxed{x=\\frac{1}{2}}$", "$\\boxed{x=3}$ or $\\boxed{x=\\frac{1}{2}}$"),
    ("several_boxes", "Find all positive divisors of 6 less than 6.", "1, 2 and 3 divide 6.", "\\{1, 2, 3\\}",
     "They are $\\boxed{1}$, $\\boxed{2}$, $\\boxed{3}$.", "They are $\\boxed{1}$, $\\boxed{2}$, $\\boxed{4}$."),
    ("wrong_span", "(a) How many packs? (b) How many pencils, at 3 per pack? Give (b).", "(a) is 8 packs.", "24",
     "The answer is $\\boxed{8}$ for part (a).\n\nFor part (b), which is what we need: 8 × 3 = 24.\n\nThe answer is 24.",
     "The answer is $\\boxed{8}$ for part (a).\n\nFor part (b), which is what we need: 8 × 3 = 21.\n\nThe answer is 21."),
    ("wrong_span", "How many in 3 groups of 5?", "3 × 5.", "15", "Final Answer: 15\n\nExplanation: there are 3 groups of 5, and 5 + 5 + 5 = 15.",
     "Final Answer: 16\n\nExplanation: there are 3 groups of 5, plus the leader: 5 + 5 + 5 + 1 = 16."),
    ("non_english", "Résoudre $x - 3 = 4$.", "On ajoute 3.", "7", "D'où $\\boxed{x = 7}$.", "D'où $\\boxed{x = 8}$."),
    ("non_english", "Ein Heft kostet 4 Euro. Was kosten 30 Hefte?", "30 · 4 = 120.", "120", "Damit erhalten wir insgesamt 120 Euro.", "Damit erhalten wir insgesamt 210 Euro."),
    ("non_english", "Un cuadrado tiene lado 6 cm. ¿Cuál es su área?", "6 · 6.", "36", "Entonces, el área es $36\\ \\text{cm}^2$.", "Entonces, el área es $63\\ \\text{cm}^2$."),
    ("non_english", "解方程 $4x = 2$。", "两边同除以 4。", "\\frac{1}{2}", "所以 $x=\\frac{1}{2}$。", "所以 $x=2$。"),
    ("non_english", "Найдите площадь квадрата со стороной 5.", "5 · 5.", "25", "Получаем $S = 25$.", "Получаем $S = 52$."),
    ("non_english", "حل المعادلة $x + 3 = 0$.", "نطرح 3.", "-3", "الحل هو $x = -3$", "الحل هو $x = 3$"),
    ("non_english", "8 का वर्ग क्या है?", "8 × 8.", "64", "उत्तर = 64", "उत्तर = 46"),
    ("non_english", "りんごが 5 個と 7 個あります。全部で何個？", "5 + 7 = 12。", "12", "答え　12 個", "答え　21 個", "a full-width space after the marker"),
    ("non_english", "Ile to jest 3 · 3?", "3 · 3 = 9.", "9", "Odpowiedź: 9", "Odpowiedź: 6", "Polish"),
    ("non_english", "Berapa 3 × 6?", "3 × 6 = 18.", "18", "Jadi, jawabannya adalah 18.", "Jadi, jawabannya adalah 81.", "Indonesian"),
    ("relations", "Find the slope of the line through (0, 2) and (3, 0).", "Rise −2 over run 3.", "-\\frac{2}{3}",
     "The slope $m = -\\frac{2}{3}$.", "The slope $m = \\frac{2}{3}$."),
    ("relations", "Find the vertex of $y = (x - 2)^2 - 1$.", "Read it off the vertex form.", "(2, -1)",
     "Vertex: $(h, k) = (2, -1)$", "Vertex: $(h, k) = (-1, 2)$"),
    ("relations", "Find the area of a 6 by 4 rectangle.", "Length times width.", "24", "$\\text{Area} = 6 \\cdot 4 = 24$", "$\\text{Area} = 6 \\cdot 5 = 30$"),
    ("relations", "Find the expected value of a fair die roll.", "(1 + … + 6)/6.", "\\frac{7}{2}", "So $E[X] = 3.5$.", "So $E[X] = 3$."),
    ("unknown_latex", "Find $\\sin 45^\\circ$.", "Isosceles right triangle.", "\\frac{\\sqrt{2}}{2}", "It is $\\frac{1}{\\sqrt{2}}$.", "It is $\\frac{1}{\\sqrt{3}}$."),
    ("unknown_latex", "Find $\\cot 45^\\circ$.", "cos/sin at 45°.", "1", "The answer is $\\cot\\frac{\\pi}{4}$.", "The answer is $\\cot\\frac{\\pi}{6}$."),
    ("unknown_latex", "Compute 5/2.", "Divide.", "\\frac{5}{2}", "So the answer is $\\textstyle\\frac{5}{2}$.", "So the answer is $\\textstyle\\frac{2}{5}$."),
    ("unknown_latex", "Write $\\sqrt{2}$ as a power of 2.", "A square root is a half power.", "\\sqrt{2}", "It is $2^{\\frac{1}{2}}$.", "It is $2^{\\frac{1}{3}}$."),
    ("unknown_latex", "Write 3 in scientific notation.", "3 = 3 × 1.", "3", "That is $3\\times 10^{0}$.", "That is $3\\times 10^{1}$."),
    ("unknown_latex", "Find the positive root of $x^2 = x + 1$.", "Quadratic formula.", "\\frac{1+\\sqrt{5}}{2}",
     "It is the golden ratio, $\\varphi = \\frac{1+\\sqrt{5}}{2}$.", "It is $\\varphi = \\frac{1-\\sqrt{5}}{2}$."),
    ("numbers", "Write 1/3 as a repeating decimal.", "1 ÷ 3 = 0.333…", "\\frac{1}{3}", "The answer is $0.\\overline{3}$.", "The answer is $0.\\overline{6}$.",
     "repeating-decimal bar"),
    ("numbers", "A city has 1.5 million people. Write the number out.", "1.5 × 10^6.", "1.5 \\times 10^{6}", "That is 1,500,000 people.", "That is 150,000 people."),
    ("numbers", "Compute 10!.", "10 × 9!.", "10!", "10! = 3628800", "9! = 362880"),
    ("numbers", "Write $2\\frac{1}{4}$ as an improper fraction.", "2 = 8/4.", "2\\frac{1}{4}", "The answer is $\\frac94$.", "The answer is $\\frac{11}{4}$."),
    ("numbers", "Compute −1 ÷ 2.", "A negative divided by a positive.", "-0.5", "The answer is $-\\frac{1}{2}$.", "The answer is $\\frac{1}{2}$."),
    ("numbers", "What is the aspect ratio of a 1920 × 1080 screen?", "Divide both by 120.", "16:9", "It is $16\\colon 9$.", "It is $9\\colon 16$.", "a ratio"),
    ("sets_tuples", "Find all positive integer pairs with x + y = 3.", "x = 1 or 2.", "\\{(1,2),(2,1)\\}",
     "The pairs are $(1, 2)$ and $(2, 1)$.", "The pairs are $(1, 2)$ and $(2, 2)$."),
    ("sets_tuples", "Solve $x^2 = 1$.", "Two square roots.", "-1, 1", "So x = 1 or x = −1.", "So x = 1 or x = 2."),
    ("sets_tuples", "Give the unit vector along the y-axis.", "It points up.", "(0, 1, 0)", "It is $\\langle 0, 1, 0 \\rangle$.", "It is $\\langle 1, 0, 0 \\rangle$."),
    ("intervals_inequalities", "Solve $x^2 < 1$.", "Between the roots.", "(-1, 1)", "Hence $|x| < 1$.", "Hence $|x| \\le 1$."),
    ("intervals_inequalities", "Solve $2 \\le x < 5$ for the interval.", "Read the bounds.", "[2, 5)", "So $2 \\leqslant x < 5$.", "So $2 < x \\leqslant 5$."),
    ("intervals_inequalities", "A car covers 360 km in 3 hours. What is its speed?", "360 / 3.", "120", "The speed is $120\\text{ km/h}$.", "The speed is $102\\text{ km/h}$."),
    ("intervals_inequalities", "Find each acute angle of an isosceles right triangle.", "(180 − 90)/2.", "45^\\circ", "Each is 45 deg.", "Each is 54 deg."),
    ("gold_from_solution", "A book costs $12 and a pen $8. Total?", "Add.", "The total is $12 + 8 = \\boxed{20}$ dollars.", "It costs $20 in total.", "It costs $12 in total."),
    ("gold_from_solution", "Solve $x^2 - 5x - 14 = 0$.", "Factor.", "It factors as $(x+2)(x-7)$, so the roots are $\\boxed{-2}$ and $\\boxed{7}$.",
     "$\\boxed{7, -2}$", "$\\boxed{2, 7}$"),
    ("multiple_choice_text_unicode", "下列哪个选项正确？", "逐一检验。", "B", "正确答案是 B。", "正确答案是 D。"),
    ("multiple_choice_text_unicode", "Which one works? (A)…(E)", "Test each.", "\\text{(D)}", "**(D)** is the only one that works.", "**(A)** is the only one that works."),
    ("multiple_choice_text_unicode", "What fraction of 10 is 6?", "6/10.", "\\frac{3}{5}", "Answer: 3\u20445", "Answer: 5\u20443", "fraction slash"),
    ("multiple_choice_text_unicode", "How many fingers on two hands?", "5 + 5.", "10", "Answer:\u00a010", "Answer:\u00a011", "no-break space"),
]

THOUGHTS = [
    "Hmm, let me think about this one carefully before writing anything down.",
    "Okay. First I'll restate what is given, then compute.",
    "Let me double check the arithmetic here, since it is easy to slip.",
    "One more sanity check: does the result have the right size? It does.",
    "I'll go with this.",
]


def wrap(question: str, working: str, ending: str) -> str:
    style = R.choice(["think", "notag", "s1", "plain", "long"])
    if style == "think":
        return f"<think>\n{THOUGHTS[0]} {question}\n\n{working}\n\n{THOUGHTS[2]}\n</think>\n\n{working}\n\n{ending}"
    if style == "notag":
        return f"{THOUGHTS[1]} {question}\n\n{working}\n\n{THOUGHTS[3]}\n</think>\n\n{ending}"
    if style == "s1":
        return f"think\n{question}\n{working}\n{THOUGHTS[4]}\nanswer\n{ending}"
    if style == "long":
        pad = "\n\n".join(R.choice(THOUGHTS) + f" (scratch: {R.randint(2, 99)} + {R.randint(2, 99)})" for _ in range(R.randint(8, 20)))
        return f"<think>\n{question}\n\n{pad}\n\n{working}\n</think>\n\n{ending}"
    return f"{working}\n\n{ending}"


def main() -> None:
    rows = []
    for pair in PAIRS:
        cat, q, working, gold, good, bad, *note = pair
        for pred_end, ok in ((good, True), (bad, False)):
            row = {"category": cat, "gold": gold, "pred": wrap(q, working, pred_end), "correct": ok}
            if note:
                row["note"] = note[0]
            rows.append(row)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} cases -> {OUT}")


if __name__ == "__main__":
    main()

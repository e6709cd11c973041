"""Outputs shaped as real teachers write them, shared by the layout and format tests (a data
module: test modules never import each other)."""

# DeepSeek-R1 (the model writes the opening tag itself).
R1_OUT = ("<think>\nOkay, so I need to find the remainder when 2^{10} is divided by 7. Let me think.\n\n"
          "2^3 = 8 ≡ 1 (mod 7), so 2^{10} = 2^9 · 2 ≡ 2.\n</think>\n\n"
          "Since $2^3 \\equiv 1 \\pmod 7$, $2^{10} \\equiv 2$.\n\n**Final Answer**\n\\boxed{2}")
# DeepSeek-R1-Distill-Qwen-7B: the chat template ends the prompt with "<think>\n".
DISTILL_OUT = ("Okay, let's see. The problem says Natalia sold clips to 48 friends in April, and half as many "
               "in May.\n\nSo in May she sold 48 / 2 = 24.\n\nTotal: 48 + 24 = 72.\n</think>\n\n"
               "Natalia sold $48 + 24 = \\boxed{72}$ clips.")
DISTILL_CUT = ("Okay, let's see. We need the number of ordered pairs (a, b) with a + b = 30.\n\n"
               "Hmm, wait, let me recount. For a = 1, b = 29; for a = 2, b = 28; ... so the co")
# Sky-T1 / OpenThoughts / Bespoke-Stratos.
SKY_OUT = ("<|begin_of_thought|>\n\nAlright, so I have this problem: the sum of two numbers is 22 and their "
           "difference is 4.\n\nx + y = 22, x - y = 4, so x = 13.\n\n<|end_of_thought|>\n\n"
           "<|begin_of_solution|>\n\nAdding the equations, $2x = 26$, so the larger number is $\\boxed{13}$.\n\n"
           "<|end_of_solution|>")
SKY_CUT = "<|begin_of_thought|>\n\nOkay, let me try to figure out this geometry problem. The triangle has sides"
# s1.1-32B with the special tokens skipped.
S1_OUT = ("think\nOkay, so I need to compute $\\sum_{k=1}^{10} k^2$.\nThe formula is n(n+1)(2n+1)/6 = 385.\n"
          "answer\nAnswer: The sum is $\\boxed{385}$.")
S1_SPECIAL = ("<|im_start|>think\nLet me see: 17 is prime.\n<|im_start|>answer\nAnswer: \\boxed{17}")
S1_CUT = "think\nOkay, so I need to find all real x with x^4 - 5x^2 + 4 = 0. Let u = x^2, then u^2 - 5u"
PLAIN = "We have $3 \\times 4 = 12$.\n\nThe answer is $\\boxed{12}$."

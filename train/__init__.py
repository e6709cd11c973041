"""Student training (SFT, KD) and evaluation: arrives with the train issue."""

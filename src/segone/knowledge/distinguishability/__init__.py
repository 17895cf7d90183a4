"""Distinguishability: traits (paraphrases grouped), rarity, look-alikes, gaps and the next best question."""

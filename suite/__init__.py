"""Shunliu kernel: mechanisms shared by every business module (never business nouns)."""

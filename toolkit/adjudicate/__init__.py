"""Adjudicate: disagreements between annotators go to a review project in Label Studio, once each."""

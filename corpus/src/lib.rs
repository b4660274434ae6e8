//! Synthetic RAW test corpus.

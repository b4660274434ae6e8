//! The development stages, each a small module with a typed input and output.

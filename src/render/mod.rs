//! Pure render functions returning `String`.

pub mod coverage;

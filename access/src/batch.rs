//! Statements over a batch of rows keep a few shapes, so the database's prepared
//! statements are reused: a list of n values is sent as the next power of two,
//! its last value repeated (a repeat changes nothing in `IN (…)` or `OR`).

/// `items` grown to the next power of two by repeating the last one.
pub fn padded<T: Clone>(items: &[T]) -> Vec<T> {
    let mut out = items.to_vec();
    if let Some(last) = items.last() {
        out.resize(items.len().next_power_of_two(), last.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::padded;

    #[test]
    fn lists_grow_to_a_power_of_two_by_repeating_the_last() {
        assert_eq!(padded::<u8>(&[]), Vec::<u8>::new());
        assert_eq!(padded(&[1]), [1]);
        assert_eq!(padded(&[1, 2, 3]), [1, 2, 3, 3]);
        assert_eq!(padded(&[1, 2, 3, 4, 5]).len(), 8);
    }
}

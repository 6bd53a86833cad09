//! Random (`random_score.go`): one uniformly random feasible node scores 100, the others 0.
//! GPU selection `random`.

/// The score plugin name.
pub const NAME: &str = "RandomScore";

/// Scores for `feasible` nodes with the chosen index `draw` (uniform in `0..feasible`).
pub fn scores(feasible: usize, draw: usize) -> Vec<i64> {
    (0..feasible).map(|i| if i == draw { 100 } else { 0 }).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_drawn_node_scores() {
        assert_eq!(super::scores(3, 1), vec![0, 100, 0]);
    }
}

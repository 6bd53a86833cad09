//! FirstFit (not in the FGD simulator): the first feasible node in node order. As a score
//! plugin, the first feasible node scores 100 and the others 0. GPU selection `best`.

/// The score plugin name.
pub const NAME: &str = "FirstFitScore";

/// Scores for the feasible nodes in node order: 100 for the first, 0 for the rest.
pub fn scores(feasible: usize) -> Vec<i64> {
    (0..feasible).map(|i| if i == 0 { 100 } else { 0 }).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_first_feasible_node_scores() {
        assert_eq!(super::scores(3), vec![100, 0, 0]);
        assert!(super::scores(0).is_empty());
    }
}

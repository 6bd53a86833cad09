//! The `kubesim` command.

fn main() {
    std::process::exit(kubesim::cli::main());
}

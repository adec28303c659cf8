//! `freewalker-bench`: see [`freewalker_bench::cli`].

fn main() -> std::process::ExitCode {
    freewalker_bench::cli::main()
}

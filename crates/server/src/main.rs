//! `freewalker`: see [`freewalker_server::cli`].

fn main() -> std::process::ExitCode {
    freewalker_server::cli::main()
}

//! `freewalker-cli`: the Freewalker institution SDK on the command line. Everything lives in
//! [`cli`]; this file only hands over the process's exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}

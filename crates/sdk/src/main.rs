fn main() { eprintln!("freewalker-cli: not built yet"); std::process::exit(2); }

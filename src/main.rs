fn main() -> std::process::ExitCode {
    asgard::cli::main()
}

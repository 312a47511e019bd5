fn main() -> std::process::ExitCode {
    warroom::cli::main()
}

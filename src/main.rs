use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(leadsift::main_with_args(std::env::args_os()))
}

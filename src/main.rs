// A failed re-exec is reported on stderr before logging starts.
#![allow(clippy::print_stderr)]

// mimalloc instead of glibc malloc: glibc kept argon2's 19 MiB blocks in
// per-thread arenas after each login (RSS grew 2.4x under load), and rows
// allocated on sqlx's threads and freed on the runtime's cost a third of the
// CPU of a list read.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    return_memory_promptly();
    asgard::cli::main()
}

/// mimalloc returns freed memory to the OS only after a delay *and* on its
/// next internal collection, so an idle server kept the boot-time argon2
/// block (19 MiB) resident indefinitely. A purge delay of 0 returns it at
/// once. mimalloc reads its options from the environment before `main`, and
/// this crate forbids the `unsafe` FFI call that would set one, so the
/// process re-executes itself once with the variable set. An operator who
/// sets `MIMALLOC_PURGE_DELAY` themselves skips this.
#[cfg(target_os = "linux")]
fn return_memory_promptly() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MIMALLOC_PURGE_DELAY";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_default();
    // /proc/self/exe still works if the binary was replaced on disk.
    let err = std::process::Command::new("/proc/self/exe")
        .arg0(arg0)
        .args(args)
        .env(VAR, "0")
        .exec();
    // `exec` returns only on failure: carry on, memory is returned later.
    eprintln!("note: could not re-execute with {VAR}=0 ({err}); continuing");
}

// mimalloc instead of glibc malloc: glibc keeps argon2's 19 MiB blocks in
// per-thread arenas after a login (RSS grew 2.4x under load), and rows
// allocated on sqlx's threads and freed on the runtime's were a third of the
// CPU of a list read. mimalloc returns large blocks and frees cross-thread
// cheaply.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    asgard::cli::main()
}

//! The scenario library and the snapshot baseline are compiled into the binary (`src/library.rs`); rebuild when
//! either folder changes.

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    println!("cargo:rerun-if-changed=snapshots");
}

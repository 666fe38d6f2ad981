//! The scenario library, the snapshot baseline (`src/library.rs`) and the documents scenarios cite
//! (`src/scenario/cite.rs`) are compiled into the binary; rebuild when any of those folders changes.

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    println!("cargo:rerun-if-changed=snapshots");
    println!("cargo:rerun-if-changed=docs");
}

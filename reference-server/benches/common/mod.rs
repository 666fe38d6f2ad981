//! Shared by the benchmarks: deterministic Okta-shaped user bodies, seeding, run-mode detection and the
//! resident set size of the process.

use std::time::{Duration, Instant};

use scim_reference_server::directory::Directory;
use scim_reference_server::schema::ResourceKind;
use serde_json::{json, Value};

/// The directory sizes measured by `cargo bench`.
pub const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

const GIVEN: [&str; 32] = [
    "Alice", "Bruno", "Chen", "Dana", "Elif", "Farah", "Gustav", "Hana", "Ivan", "Jamal", "Keiko", "Liam", "Maya",
    "Nikos", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe",
    "Amara", "Björn", "Chloé", "Diego", "Emeka", "Freya",
];

/// Three of the 32 start with "Sm", so `name.familyName sw "Sm"` selects about 9 % of the users.
const FAMILY: [&str; 32] = [
    "Smith", "Johnson", "Garcia", "Müller", "Nakamura", "Okafor", "Smythe", "Rossi", "Novak", "Kowalski", "Dubois",
    "Jensen", "Silva", "Kim", "Patel", "Nguyen", "Smart", "Hansen", "Ivanova", "Tanaka", "Costa", "Fischer", "Weber",
    "Moreau", "Larsen", "Haddad", "Cohen", "Oliveira", "Murphy", "Schmidt", "Yilmaz", "Lopez",
];

const LOCALES: [&str; 6] = ["en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "pt-BR"];

const DEPARTMENTS: [&str; 8] =
    ["Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", "People", "Operations"];

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// SplitMix64: a cheap, well-mixed hash of the user's index, so every run seeds the same directory.
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn names(i: usize) -> (&'static str, &'static str, u64) {
    let h = mix(i as u64);
    (GIVEN[(h % 32) as usize], FAMILY[((h >> 8) % 32) as usize], h)
}

/// The userName of the `i`-th seeded user (unique: it carries the index), e.g. `Alice.Smith17@example.com`.
pub fn user_name(i: usize) -> String {
    let (given, family, _) = names(i);
    format!("{given}.{family}{i}@example.com")
}

/// An Okta-style user id such as `00u4Xk9...`: "00u" and 17 base62 characters.
fn okta_id(i: usize) -> String {
    let mut s = String::with_capacity(20);
    s.push_str("00u");
    let mut x = mix(i as u64 ^ 0x5EED);
    for n in 0..17 {
        if n == 10 {
            x = mix(x);
        }
        s.push(BASE62[(x % 62) as usize] as char);
        x /= 62;
    }
    s
}

/// The body Okta's provisioning sends on `POST /Users` (minus the password) for the `i`-th user: a quarter
/// have their work email at `@corp.example.com`, 90 % are active, a third carry an enterprise department.
pub fn user_body(i: usize) -> Value {
    let (given, family, h) = names(i);
    let user_name = user_name(i);
    let email = if (h >> 16) % 4 == 0 { format!("{given}.{family}{i}@corp.example.com") } else { user_name.clone() };
    let mut body = json!({
        "schemas": [CORE],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": true, "value": email, "type": "work"}],
        "displayName": format!("{given} {family}"),
        "locale": LOCALES[((h >> 24) % 6) as usize],
        "externalId": okta_id(i),
        "active": (h >> 32) % 10 != 0,
    });
    if i.is_multiple_of(3) {
        body["schemas"] = json!([CORE, ENTERPRISE]);
        body[ENTERPRISE] = json!({"department": DEPARTMENTS[((h >> 40) % 8) as usize]});
    }
    body
}

/// Creates users `0..n` through [`Directory::create`] and returns how long it took.
pub fn seed(directory: &Directory, n: usize) -> Duration {
    let started = Instant::now();
    for i in 0..n {
        directory.create(ResourceKind::User, user_body(i)).expect("seed user is valid");
    }
    started.elapsed()
}

/// True when the binary runs as a benchmark (`cargo bench`), false when run as a test (`cargo test
/// --benches`, `cargo bench -- --test`), where only the smallest size is exercised. Mirrors criterion.
pub fn bench_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test")
}

/// The sizes to run: `SCIM_BENCH_SIZES=1000,100000` overrides; test mode runs only the smallest.
pub fn sizes() -> Vec<usize> {
    sizes_for(&SIZES)
}

/// The sizes a benchmark runs: `SCIM_BENCH_SIZES` (comma-separated, `_` allowed) when set, else `bench` under
/// `cargo bench` and 1,000 in test mode.
pub fn sizes_for(bench: &[usize]) -> Vec<usize> {
    if let Ok(list) = std::env::var("SCIM_BENCH_SIZES") {
        let parsed: Vec<usize> = list.split(',').filter_map(|s| s.trim().replace('_', "").parse().ok()).collect();
        if !parsed.is_empty() {
            return parsed;
        }
    }
    if bench_mode() {
        bench.to_vec()
    } else {
        vec![SIZES[0]]
    }
}

/// The resident set size of this process in bytes (`VmRSS` of `/proc/self/status`; Linux only).
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// "1k", "100k", "1M".
pub fn size_label(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n.is_multiple_of(1_000_000) => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n.is_multiple_of(1_000) => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

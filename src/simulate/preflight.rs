//! Before a simulation sends anything: the same connection test as `scimcheck run` ([`crate::preflight`], one
//! implementation) and a line naming the target.
//!
//! A wrong port, token or base URL fails the test with one line naming the cause (exit 2) before any
//! provisioning request.

/// The line naming the target, printed before the progress bars: where, which IdP and dialect, what sizes.
pub fn target_line(target: &str, dialect: crate::idp::Dialect, source: &super::Source, cycles: u16) -> String {
    use clap::ValueEnum;
    let idp = super::reconcile::idp_name(dialect);
    let variant = match dialect {
        crate::idp::Dialect::Entra(d) => d.to_possible_value(),
        crate::idp::Dialect::Okta(k) => k.to_possible_value(),
    };
    let variant = variant.map(|v| v.get_name().to_string()).unwrap_or_default();
    let sizes = match source {
        super::Source::Generated { seed, users, groups } => {
            format!("{users} generated user(s) and {groups} group(s) (seed {seed})")
        }
        super::Source::File(p) => format!("the directory export {}", p.display()),
    };
    format!("simulating {idp} ({variant}) against {target}: {sizes}, 1 initial cycle and {cycles} incremental")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_line_names_target_idp_dialect_and_sizes() {
        let src = crate::simulate::Source::Generated { seed: 7, users: 40, groups: 3 };
        let d = crate::idp::Dialect::Entra(crate::idp::EntraDialect::AadOptscim062020);
        let line = target_line("https://scim.example.test/scim", d, &src, 2);
        assert_eq!(
            line,
            "simulating entra (aadOptscim062020) against https://scim.example.test/scim: 40 generated user(s) and \
             3 group(s) (seed 7), 1 initial cycle and 2 incremental"
        );
    }
}

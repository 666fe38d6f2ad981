//! `simulate --entitlements N`: the Okta engine as Okta Identity Governance drives it. The IdP holds a catalogue
//! of N roles and N entitlements, gives every assigned user one or two of each (a Required category: Okta never
//! assigns a user without one; Multi-valued: sometimes two), and reassigns them to a share of the users every
//! cycle; users are created and updated with `roles` and `entitlements` in the shapes of Okta's guide, and the
//! reconciliation compares each user's values with the server's
//! (<https://developer.okta.com/docs/guides/scim-with-entitlements/main/#user-with-entitlements-and-roles>).
//!
//! The values must exist on the server (the reference server refuses others with 400 `invalidValue`):
//! [`SimCatalogue::reference_types`] seeds them into the reference server's `SCIMOkta` app for `--reference`;
//! a server of your own must list the same ids ([`SimCatalogue::generated`]).

use fake::rand::rngs::StdRng;
use fake::rand::{Rng, SeedableRng};

use crate::idp::Grants;

/// The entitlement type's name, sent as each entitlement's `type`.
pub const LICENSE_TYPE: &str = "License";

/// The roles and entitlements the simulated IdP assigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCatalogue {
    /// Role ids.
    pub roles: Vec<String>,
    /// Entitlement ids (all of type [`LICENSE_TYPE`]).
    pub entitlements: Vec<String>,
}

impl SimCatalogue {
    /// `n` roles `sim-role-1…n` and `n` entitlements `sim-license-1…n`.
    pub fn generated(n: usize) -> SimCatalogue {
        SimCatalogue {
            roles: (1..=n).map(|k| format!("sim-role-{k}")).collect(),
            entitlements: (1..=n).map(|k| format!("sim-license-{k}")).collect(),
        }
    }

    /// The reference server's resource types listing the catalogue: a Role type at `/Roles`, a `License`
    /// entitlement type at `/Entitlements`.
    pub fn reference_types(&self) -> Vec<scim_reference_server::entitlements::EntitlementType> {
        use scim_reference_server::entitlements::{EntitlementSchema, EntitlementType, EntitlementValue};
        let values = |ids: &[String]| -> Vec<EntitlementValue> {
            ids.iter()
                .map(|id| EntitlementValue { id: id.clone(), display_name: id.clone(), description: None })
                .collect()
        };
        vec![
            EntitlementType {
                name: "Role".into(),
                endpoint: "/Roles".into(),
                schema: EntitlementSchema::Role,
                description: "Simulated roles".into(),
                multi_valued: true,
                required: true,
                values: values(&self.roles),
            },
            EntitlementType {
                name: LICENSE_TYPE.into(),
                endpoint: "/Entitlements".into(),
                schema: EntitlementSchema::Entitlement,
                description: "Simulated licences".into(),
                multi_valued: true,
                required: true,
                values: values(&self.entitlements),
            },
        ]
    }

    /// The grants of the user whose IdP id is `external_id`, after `generation` reassignments: one or two roles
    /// and one or two entitlements, a pure function of its arguments (the same on every cycle until reassigned).
    pub fn grants_for(&self, external_id: &str, generation: u32) -> Grants {
        let mut h = 0xcbf2_9ce4_8422_2325u64; // FNV-1a of the id and the generation
        for b in external_id.bytes().chain(generation.to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut rng = StdRng::seed_from_u64(h);
        let mut pick = |from: &[String]| -> Vec<String> {
            if from.is_empty() {
                return Vec::new();
            }
            let mut out = vec![from[rng.random_range(0..from.len())].clone()];
            if from.len() > 1 && rng.random_bool(0.3) {
                out.push(from[rng.random_range(0..from.len())].clone());
            }
            out.sort();
            out.dedup();
            out
        };
        let roles = pick(&self.roles);
        let entitlements = pick(&self.entitlements).into_iter().map(|e| (e, LICENSE_TYPE.to_string())).collect();
        Grants { roles, entitlements }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Model;
    use super::*;

    #[test]
    fn grants_are_stable_until_reassigned_and_always_hold_one_of_each() {
        let c = SimCatalogue::generated(5);
        let a = c.grants_for("00uabc", 0);
        assert_eq!(a, c.grants_for("00uabc", 0));
        assert!((1..=2).contains(&a.roles.len()) && (1..=2).contains(&a.entitlements.len()));
        let changed = (1..20).any(|g| c.grants_for("00uabc", g) != a);
        assert!(changed, "a reassignment changes the grants");
        let mut m = Model::generate(7, 50, 0, super::super::model::IdStyle::Okta);
        m.catalogue = Some(std::sync::Arc::new(c));
        let before = m.attrs(3).grants.clone().unwrap();
        assert!(m.reassign_grants(1.0, 7, 1) > 0);
        assert!(m.users.iter().any(|u| u.grant > 0));
        let _ = before;
    }
}

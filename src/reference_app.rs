//! Which app of the reference server answers an IdP's scenarios.
//!
//! The reference server seeds two apps per tenant (`…/api/v1/SCIM/SCIMOkta` and `…/SCIMAzure`) over one
//! directory. They differ only where an IdP's documented behaviour departs from RFC 7644: a `replace` through a
//! value filter that matches no value is 400 `noTarget` on `SCIMOkta` (RFC 7644 §3.5.2.3) and creates the element on
//! `SCIMAzure`, as Microsoft Entra ID expects. The ground truth for an Entra flow is therefore the Entra app; every
//! other flow (Okta, plain RFC) runs against `SCIMOkta`.

use scim_reference_server::tenant::AppKind;
use scim_reference_server::RunningServer;

use crate::idp::Idp;

/// The app that answers `idp`'s scenarios: [`AppKind::Azure`] for [`Idp::Entra`], [`AppKind::Okta`] otherwise.
pub fn app_of(idp: Idp) -> AppKind {
    match idp {
        Idp::Entra => AppKind::Azure,
        Idp::Okta | Idp::Rfc => AppKind::Okta,
    }
}

/// The SCIM base URI (no trailing slash) and bearer token of `idp`'s app ([`app_of`]) in the tenant of
/// `server.base_url`.
/// Falls back to the server's first `SCIMOkta` endpoint and token when that app was not seeded or
/// holds no token made at start.
pub fn endpoint_for(server: &RunningServer, idp: Idp) -> (String, String) {
    let app = app_of(idp);
    let first_tenant = server.endpoints.iter().find(|e| e.base_url == server.base_url).map(|e| e.tenant.as_str());
    let found = server.endpoints.iter().find(|e| Some(e.tenant.as_str()) == first_tenant && e.app == app);
    match found.and_then(|e| Some((e.base_url.clone(), e.token.clone()?))) {
        Some(pair) => pair,
        None => (server.base_url.clone(), server.token.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entra_scenarios_get_the_azure_app_and_its_own_token_the_others_the_okta_app() {
        let server = scim_reference_server::spawn(scim_reference_server::ServerConfig::default()).await.unwrap();
        let (azure_url, azure_token) = endpoint_for(&server, Idp::Entra);
        assert!(azure_url.ends_with("/SCIMAzure"), "{azure_url}");
        assert!(!azure_token.is_empty() && azure_token != server.token);
        for idp in [Idp::Okta, Idp::Rfc] {
            assert_eq!(endpoint_for(&server, idp), (server.base_url.clone(), server.token.clone()));
            assert!(server.base_url.ends_with("/SCIMOkta"), "{}", server.base_url);
        }
        // the token belongs to that app: a request through it is served
        let res = reqwest::Client::new().get(format!("{azure_url}/Users")).bearer_auth(&azure_token).send().await;
        assert_eq!(res.unwrap().status().as_u16(), 200);
        server.shutdown().await;
    }
}

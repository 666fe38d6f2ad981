//! The portal's OAuth clients ([`crate::oauth`]): created, rotated and revoked per app through the admin API,
//! written to the data file before the change is visible (a refused write changes nothing), and the client
//! credentials grant of the tenant's token endpoint.

use chrono::Duration;

use super::{AppKind, Portal};
use crate::error::ScimResult;
use crate::oauth::{AccessToken, ClientInfo, ClientProof, CreatedClient, GrantError, NewClient, OAuthClients, Rotated};
use crate::sqlite::Op;
use crate::token::AuthFailure;

impl Portal {
    /// Applies `change` to a copy of `app`'s clients, writes the copy, and only then keeps it.
    fn change_oauth<T>(&self, app: AppKind, change: impl FnOnce(&mut OAuthClients) -> ScimResult<T>) -> ScimResult<T> {
        let _writes = self.token_writes.lock();
        let mut st = self.state.lock();
        let a = st.apps.entry(app).or_default();
        let mut copy = a.oauth.clone();
        let out = change(&mut copy)?;
        if self.journal.is_some() {
            self.save(&[Op::PutOAuthClients { app: app.name().to_string(), records: copy.to_stored_json() }])?;
        }
        // the copy has no access tokens: keep the live ones
        let live = std::mem::take(&mut a.oauth);
        a.oauth = copy.with_access_of(live);
        Ok(out)
    }

    /// Registers an OAuth client of `app` (its secret is in the answer only).
    ///
    /// Errors: those of [`OAuthClients::create`]; the data file could not be written.
    pub fn create_oauth_client(&self, app: AppKind, req: NewClient) -> ScimResult<CreatedClient> {
        let now = self.now();
        self.change_oauth(app, |c| c.create(req, now))
    }

    /// `app`'s OAuth clients (no secrets).
    pub fn list_oauth_clients(&self, app: AppKind) -> Vec<ClientInfo> {
        let now = self.now();
        self.state.lock().apps.get(&app).map(|a| a.oauth.list(now)).unwrap_or_default()
    }

    /// Gives a client a new secret; the previous ones stay valid for `overlap`.
    ///
    /// Errors: those of [`OAuthClients::rotate`]; the data file could not be written.
    pub fn rotate_oauth_client(&self, app: AppKind, client_id: &str, overlap: Duration) -> ScimResult<Rotated> {
        let now = self.now();
        self.change_oauth(app, |c| c.rotate(client_id, overlap, now))
    }

    /// Revokes a client: its secrets and access tokens stop working.
    ///
    /// Errors: 404 unknown client; the data file could not be written.
    pub fn revoke_oauth_client(&self, app: AppKind, client_id: &str) -> ScimResult<ClientInfo> {
        let now = self.now();
        self.change_oauth(app, |c| c.revoke(client_id, now))
    }

    /// The client credentials grant for whichever app registered `client_id` (see [`OAuthClients::grant`]).
    ///
    /// Errors: `invalid_client` when no app of this tenant has the client, or the proof fails.
    pub fn oauth_grant(
        &self,
        client_id: &str,
        proof: ClientProof<'_>,
        audience: &str,
    ) -> Result<AccessToken, GrantError> {
        let now = self.now();
        let mut st = self.state.lock();
        let owner = st.apps.values_mut().find(|a| a.oauth.has_client(client_id));
        match owner {
            Some(a) => a.oauth.grant(client_id, proof, audience, now),
            None => Err(GrantError::InvalidClient("client authentication failed".into())),
        }
    }

    /// Whether `presented` is a live OAuth access token of `app`.
    ///
    /// Errors: see [`OAuthClients::check_access`].
    pub fn authenticate_access_token(&self, app: AppKind, presented: &str) -> Result<(), AuthFailure> {
        let now = self.now();
        let st = self.state.lock();
        match st.apps.get(&app) {
            Some(a) => a.oauth.check_access(presented, now),
            None => Err(AuthFailure::Invalid),
        }
    }
}

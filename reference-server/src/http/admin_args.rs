//! What the admin API's paths and bodies name, shared by its handlers ([`super::admin`], [`super::oauth`]): a
//! tenant, an app, a JSON body of a given shape. Each is 404 or 400 with a SCIM error when it names nothing.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{ScimError, ScimResult};
use crate::state::AppState;
use crate::tenant::{AppKind, Tenant};

/// `v` as a `T`; 400 `invalidValue` naming what did not fit.
pub(super) fn parse_body<T: for<'de> Deserialize<'de>>(v: Value) -> ScimResult<T> {
    serde_json::from_value(v).map_err(|e| ScimError::InvalidValue(format!("invalid request: {e}")))
}

/// The tenant `name`; 404 when there is none.
pub(super) fn tenant(st: &AppState, name: &str) -> ScimResult<Arc<Tenant>> {
    st.tenants.get(name).ok_or_else(|| ScimError::NotFound(format!("tenant '{name}' not found")))
}

/// The app `name` (`SCIMOkta`, `SCIMAzure`); 404 otherwise.
pub(super) fn app(name: &str) -> ScimResult<AppKind> {
    AppKind::parse(name)
        .ok_or_else(|| ScimError::NotFound(format!("app '{name}' not found: use SCIMOkta or SCIMAzure")))
}

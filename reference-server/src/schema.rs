//! The schemas the server implements (RFC 7643 §4, §8.7) as static data, and the resolution of attribute
//! paths against them. Everything else — validation, filters, PATCH, projection, discovery — reads these
//! definitions, so `/Schemas` always describes exactly what the server does.

/// RFC 7643 §8.7.1 core User schema URN.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// RFC 7643 §8.7.1 core Group schema URN.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// RFC 7643 §4.3 enterprise User extension URN.
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The reference server's read-only portal extension of the User (licence and access state).
pub const PORTAL_URN: &str = "urn:scimcheck:params:scim:schemas:extension:portal:2.0:User";
/// RFC 7644 §3.4.2 list response URN.
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// RFC 7644 §3.4.3 search request URN.
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// RFC 7644 §3.5.2 PATCH request URN.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// RFC 7644 §3.12 error URN.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// RFC 7643 §5 ServiceProviderConfig schema URN.
pub const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// RFC 7643 §6 ResourceType schema URN.
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// RFC 7643 §7 Schema schema URN.
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// RFC 7643 §2.3 attribute data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// `string`: a sequence of Unicode characters (RFC 7643 §2.3.1).
    String,
    /// `boolean`: `true` or `false` (RFC 7643 §2.3.2).
    Boolean,
    /// `decimal`: a real number with at least one digit after the point (RFC 7643 §2.3.3).
    Decimal,
    /// `integer`: a whole number without a fractional part (RFC 7643 §2.3.4).
    Integer,
    /// `dateTime`: an `xsd:dateTime` timestamp, such as `2008-01-23T04:56:22Z` (RFC 7643 §2.3.5).
    DateTime,
    /// `binary`: base64-encoded bytes (RFC 7643 §2.3.6).
    Binary,
    /// `reference`: a URI to a resource or an external location (RFC 7643 §2.3.7).
    Reference,
    /// `complex`: a singular or multi-valued set of sub-attributes (RFC 7643 §2.3.8).
    Complex,
}

impl AttrType {
    /// The name used in schema representations (RFC 7643 §7).
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// `readOnly`: set by the service provider only; clients cannot change it.
    ReadOnly,
    /// `readWrite`: clients may read and change it.
    ReadWrite,
    /// `immutable`: a client may set it once (on create, or when empty), never change it afterwards.
    Immutable,
    /// `writeOnly`: clients may set it, and it is never returned (a password).
    WriteOnly,
}

impl Mutability {
    /// The name used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// `always`: returned in every answer, even when `attributes` or `excludedAttributes` leave it out.
    Always,
    /// `never`: never returned (a password).
    Never,
    /// `default`: returned unless `excludedAttributes` names it, or `attributes` is given and does not.
    Default,
    /// `request`: returned only when `attributes` names it.
    Request,
}

impl Returned {
    /// The name used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    /// `none`: values need not be unique.
    None,
    /// `server`: unique within the service provider (here, within one tenant).
    Server,
    /// `global`: unique across the whole Internet, such as a URN minted for it.
    Global,
}

impl Uniqueness {
    /// The name used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug, Clone, Copy)]
pub struct AttrDef {
    /// The attribute's name as it appears in JSON (`userName`, `emails`).
    pub name: &'static str,
    /// Its data type (`type`).
    pub ty: AttrType,
    /// Whether it holds a JSON array of values (`multiValued`).
    pub multi_valued: bool,
    /// Whether a create or replace must carry it (`required`).
    pub required: bool,
    /// Whether string comparisons on it respect case (`caseExact`); `false` compares ignoring case.
    pub case_exact: bool,
    /// Who may change it (`mutability`).
    pub mutability: Mutability,
    /// When answers carry it (`returned`).
    pub returned: Returned,
    /// Which values must be unique (`uniqueness`).
    pub uniqueness: Uniqueness,
    /// The values the service suggests (`canonicalValues`), such as `work`, `home`; empty when open.
    pub canonical_values: &'static [&'static str],
    /// For a `reference`: what it may point to (`referenceTypes`), such as `User`, `Group`, `external`.
    pub reference_types: &'static [&'static str],
    /// For a `complex`: its sub-attributes (`subAttributes`); empty otherwise.
    pub sub_attributes: &'static [AttrDef],
    /// The human-readable `description` served under `/Schemas`.
    pub description: &'static str,
}

impl AttrDef {
    /// A single-valued, optional, readWrite attribute with RFC 7643 §2.2 defaults.
    pub const fn new(name: &'static str, ty: AttrType, description: &'static str) -> Self {
        AttrDef {
            name,
            ty,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
            description,
        }
    }
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }
    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }
    const fn reference(name: &'static str, types: &'static [&'static str], description: &'static str) -> Self {
        let mut a = Self::new(name, AttrType::Reference, description);
        a.reference_types = types;
        a
    }
    const fn complex(name: &'static str, subs: &'static [AttrDef], description: &'static str) -> Self {
        let mut a = Self::new(name, AttrType::Complex, description);
        a.sub_attributes = subs;
        a
    }
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    const fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    const fn unique(mut self) -> Self {
        self.uniqueness = Uniqueness::Server;
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// Looks up a sub-attribute by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&'static AttrDef> {
        self.sub_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// True for complex attributes.
    pub fn is_complex(&self) -> bool {
        self.ty == AttrType::Complex
    }
}

/// A schema (RFC 7643 §7): an id (URN), a name and its attributes.
#[derive(Debug)]
pub struct SchemaDef {
    /// The schema's URN (`id`), such as `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub id: &'static str,
    /// Its short `name` (`User`).
    pub name: &'static str,
    /// Its human-readable `description`.
    pub description: &'static str,
    /// Its top-level attributes, in the order `/Schemas` lists them.
    pub attributes: &'static [AttrDef],
}

impl SchemaDef {
    /// Looks up a top-level attribute by name, case-insensitively.
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A resource type (RFC 7643 §6).
#[derive(Debug)]
pub struct ResourceType {
    /// The resource type's `id` (`User`).
    pub id: &'static str,
    /// Its `name` (`User`).
    pub name: &'static str,
    /// Its endpoint relative to the base URI (`/Users`).
    pub endpoint: &'static str,
    /// Its human-readable `description`.
    pub description: &'static str,
    /// Its core schema.
    pub schema: &'static SchemaDef,
    /// Extension schemas and whether each is required.
    pub extensions: &'static [(&'static SchemaDef, bool)],
}

/// Which kind of resource a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// A `User` (RFC 7643 §4.1), served under `/Users`.
    User,
    /// A `Group` (RFC 7643 §4.2), served under `/Groups`.
    Group,
}

impl ResourceKind {
    /// The resource type definition of this kind.
    pub fn resource_type(self) -> &'static ResourceType {
        match self {
            ResourceKind::User => &USER_RESOURCE_TYPE,
            ResourceKind::Group => &GROUP_RESOURCE_TYPE,
        }
    }
}

/// Where an attribute path landed: in which schema, which attribute, and which sub-attribute if any.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The schema URN the attribute belongs to; `None` for the common attributes (id, externalId, meta).
    pub extension: Option<&'static SchemaDef>,
    /// The top-level attribute the path names.
    pub attr: &'static AttrDef,
    /// The sub-attribute the path names after a dot (`name.familyName`), if any.
    pub sub: Option<&'static AttrDef>,
}

impl Resolved {
    /// The definition of the innermost attribute named by the path.
    pub fn leaf(&self) -> &'static AttrDef {
        self.sub.unwrap_or(self.attr)
    }
}

impl ResourceType {
    /// All schemas of this resource type: the core schema then the extensions.
    pub fn schemas(&self) -> impl Iterator<Item = &'static SchemaDef> + '_ {
        std::iter::once(self.schema).chain(self.extensions.iter().map(|(s, _)| *s))
    }

    /// Looks up an extension schema by URN, case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions.iter().map(|(s, _)| *s).find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves `[urn:]name[.sub]` (RFC 7644 §3.10) to its definitions. `urn` may be the core schema's URN,
    /// an extension URN, or absent (core and common attributes). Names are case-insensitive (RFC 7643 §2.1).
    pub fn resolve(&self, urn: Option<&str>, name: &str, sub: Option<&str>) -> Option<Resolved> {
        let (extension, attr) = match urn {
            Some(u) if !u.eq_ignore_ascii_case(self.schema.id) => {
                let ext = self.extension(u)?;
                (Some(ext), ext.attr(name)?)
            }
            _ => (
                None,
                self.schema
                    .attr(name)
                    .or_else(|| COMMON_ATTRIBUTES.iter().find(|a| a.name.eq_ignore_ascii_case(name)))?,
            ),
        };
        let sub = match sub {
            Some(s) => Some(attr.sub(s)?),
            None => None,
        };
        Some(Resolved { extension, attr, sub })
    }
}

const MULTI_TYPES_EMAIL: &[&str] = &["work", "home", "other"];

/// Sub-attributes shared by most multi-valued attributes (RFC 7643 §2.4).
macro_rules! multi_subs {
    ($value:expr, $types:expr) => {
        &[
            $value,
            AttrDef::string("display", "A human-readable name, primarily used for display purposes."),
            AttrDef::string("type", "A label indicating the attribute's function.").canonical($types),
            AttrDef::boolean("primary", "A Boolean value indicating the 'primary' or preferred attribute value."),
        ]
    };
}

/// Common attributes of every resource (RFC 7643 §3.1). They are not part of any schema's representation.
pub static COMMON_ATTRIBUTES: &[AttrDef] = &[
    AttrDef::string("id", "A unique identifier for a SCIM resource as defined by the service provider.")
        .case_exact()
        .mutability(Mutability::ReadOnly)
        .returned(Returned::Always)
        .unique(),
    AttrDef::string(
        "externalId",
        "A String that is an identifier for the resource as defined by the provisioning client.",
    )
    .case_exact(),
    AttrDef::complex(
        "meta",
        &[
            AttrDef::string("resourceType", "The name of the resource type of the resource.")
                .case_exact()
                .mutability(Mutability::ReadOnly),
            AttrDef::new(
                "created",
                AttrType::DateTime,
                "The DateTime that the resource was added to the service provider.",
            )
            .mutability(Mutability::ReadOnly),
            AttrDef::new(
                "lastModified",
                AttrType::DateTime,
                "The most recent DateTime that the details of this resource were updated.",
            )
            .mutability(Mutability::ReadOnly),
            AttrDef::reference("location", &["uri"], "The URI of the resource being returned.")
                .case_exact()
                .mutability(Mutability::ReadOnly),
            AttrDef::string("version", "The version of the resource being returned.")
                .case_exact()
                .mutability(Mutability::ReadOnly),
        ],
        "A complex attribute containing resource metadata.",
    )
    .mutability(Mutability::ReadOnly),
];

/// RFC 7643 §4.1 and §8.7.1: the core User schema.
pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER_URN,
    name: "User",
    description: "User Account",
    attributes: &[
        AttrDef::string("userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.")
            .required()
            .unique(),
        AttrDef::complex(
            "name",
            &[
                AttrDef::string("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
                AttrDef::string("familyName", "The family name of the User, or last name in most Western languages."),
                AttrDef::string("givenName", "The given name of the User, or first name in most Western languages."),
                AttrDef::string("middleName", "The middle name(s) of the User."),
                AttrDef::string("honorificPrefix", "The honorific prefix(es) of the User, or title in most Western languages."),
                AttrDef::string("honorificSuffix", "The honorific suffix(es) of the User, or suffix in most Western languages."),
            ],
            "The components of the user's real name.",
        ),
        AttrDef::string("displayName", "The name of the User, suitable for display to end-users."),
        AttrDef::string("nickName", "The casual way to address the user in real life."),
        AttrDef::reference("profileUrl", &["external"], "A fully qualified URL pointing to a page representing the User's online profile."),
        AttrDef::string("title", "The user's title, such as \"Vice President\"."),
        AttrDef::string("userType", "Used to identify the relationship between the organization and the user."),
        AttrDef::string("preferredLanguage", "Indicates the User's preferred written or spoken language."),
        AttrDef::string("locale", "Used to indicate the User's default location for purposes of localizing items."),
        AttrDef::string("timezone", "The User's time zone in the 'Olson' time zone database format."),
        AttrDef::boolean("active", "A Boolean value indicating the User's administrative status."),
        AttrDef::string("password", "The User's cleartext password. Write-only: never returned.")
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never),
        AttrDef::complex(
            "emails",
            multi_subs!(AttrDef::string("value", "Email addresses for the user."), MULTI_TYPES_EMAIL),
            "Email addresses for the user.",
        )
        .multi(),
        AttrDef::complex(
            "phoneNumbers",
            multi_subs!(
                AttrDef::string("value", "Phone number of the User."),
                &["work", "home", "mobile", "fax", "pager", "other"]
            ),
            "Phone numbers for the User.",
        )
        .multi(),
        AttrDef::complex(
            "ims",
            multi_subs!(
                AttrDef::string("value", "Instant messaging address for the User."),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]
            ),
            "Instant messaging addresses for the User.",
        )
        .multi(),
        AttrDef::complex(
            "photos",
            multi_subs!(
                AttrDef::reference("value", &["external"], "URL of a photo of the User."),
                &["photo", "thumbnail"]
            ),
            "URLs of photos of the User.",
        )
        .multi(),
        AttrDef::complex(
            "addresses",
            &[
                AttrDef::string("formatted", "The full mailing address, formatted for display or use with a mailing label."),
                AttrDef::string("streetAddress", "The full street address component."),
                AttrDef::string("locality", "The city or locality component."),
                AttrDef::string("region", "The state or region component."),
                AttrDef::string("postalCode", "The zip code or postal code component."),
                AttrDef::string("country", "The country name component."),
                AttrDef::string("type", "A label indicating the attribute's function.").canonical(MULTI_TYPES_EMAIL),
                AttrDef::boolean("primary", "A Boolean value indicating the 'primary' or preferred attribute value."),
            ],
            "A physical mailing address for this User.",
        )
        .multi(),
        AttrDef::complex(
            "groups",
            &[
                AttrDef::string("value", "The identifier of the User's group.").mutability(Mutability::ReadOnly),
                AttrDef::reference("$ref", &["User", "Group"], "The URI of the corresponding 'Group' resource.")
                    .mutability(Mutability::ReadOnly),
                AttrDef::string("display", "A human-readable name, primarily used for display purposes.")
                    .mutability(Mutability::ReadOnly),
                AttrDef::string("type", "A label indicating the attribute's function.")
                    .canonical(&["direct", "indirect"])
                    .mutability(Mutability::ReadOnly),
            ],
            "A list of groups to which the user belongs, derived from group membership.",
        )
        .multi()
        .mutability(Mutability::ReadOnly),
        AttrDef::complex(
            "entitlements",
            multi_subs!(AttrDef::string("value", "The value of an entitlement."), &[]),
            "A list of entitlements for the User.",
        )
        .multi(),
        AttrDef::complex(
            "roles",
            multi_subs!(AttrDef::string("value", "The value of a role."), &[]),
            "A list of roles for the User.",
        )
        .multi(),
        AttrDef::complex(
            "x509Certificates",
            multi_subs!(
                AttrDef::new("value", AttrType::Binary, "The value of an X.509 certificate.").case_exact(),
                &[]
            ),
            "A list of certificates issued to the User.",
        )
        .multi(),
    ],
};

/// RFC 7643 §4.3: the enterprise User extension.
pub static ENTERPRISE_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        AttrDef::string("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
        AttrDef::string("costCenter", "Identifies the name of a cost center."),
        AttrDef::string("organization", "Identifies the name of an organization."),
        AttrDef::string("division", "Identifies the name of a division."),
        AttrDef::string("department", "Identifies the name of a department."),
        AttrDef::complex(
            "manager",
            &[
                AttrDef::string("value", "The id of the SCIM resource representing the User's manager."),
                AttrDef::reference("$ref", &["User"], "The URI of the SCIM resource representing the User's manager."),
                AttrDef::string("displayName", "The displayName of the User's manager.")
                    .mutability(Mutability::ReadOnly),
            ],
            "The User's manager. A bare id string is accepted as the manager's value.",
        ),
    ],
};

/// The portal extension: what the SaaS portal behind the SCIM service decided about a provisioned user.
/// `portalRole` is set by the IdP (and CAL rules may match on it); the licence and access attributes are
/// read-only and returned only on request (`attributes=urn:scimcheck:params:scim:schemas:extension:portal:2.0:User`),
/// so clients that echo resources are undisturbed while scenarios can snapshot the portal's decisions.
pub static PORTAL_SCHEMA: SchemaDef = SchemaDef {
    id: PORTAL_URN,
    name: "PortalUser",
    description: "Portal role, licence (CAL) and access state of a provisioned user",
    attributes: &[
        AttrDef::string("portalRole", "The role the IdP asks the portal to give the user; CAL rules may match on it.")
            .canonical(&["viewer", "contributor", "manager"]),
        AttrDef::string("cal", "The id of the Client Access Licence the user holds, if any.")
            .case_exact()
            .mutability(Mutability::ReadOnly)
            .returned(Returned::Request),
        AttrDef::string("accessStatus", "The user's access to the portal.")
            .canonical(&["active", "anonymous", "deactivated"])
            .case_exact()
            .mutability(Mutability::ReadOnly)
            .returned(Returned::Request),
        AttrDef::boolean("federated", "True for users provisioned through SCIM: their profile is managed by the IdP.")
            .mutability(Mutability::ReadOnly)
            .returned(Returned::Request),
        AttrDef::complex(
            "notifications",
            &[
                AttrDef::new("at", AttrType::DateTime, "When the notification was raised.")
                    .mutability(Mutability::ReadOnly),
                AttrDef::string("kind", "The kind of notification, e.g. noCalAvailable.")
                    .case_exact()
                    .mutability(Mutability::ReadOnly),
                AttrDef::string("message", "A human-readable message.").mutability(Mutability::ReadOnly),
            ],
            "Notifications the portal raised for the user.",
        )
        .multi()
        .mutability(Mutability::ReadOnly)
        .returned(Returned::Request),
    ],
};

/// RFC 7643 §4.2 and §8.7.1: the core Group schema.
pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP_URN,
    name: "Group",
    description: "Group",
    attributes: &[
        AttrDef::string("displayName", "A human-readable name for the Group. Unique within the tenant.")
            .required()
            .unique(),
        AttrDef::complex(
            "members",
            &[
                AttrDef::string("value", "Identifier of the member of this Group.").mutability(Mutability::Immutable),
                AttrDef::reference(
                    "$ref",
                    &["User", "Group"],
                    "The URI corresponding to a SCIM resource that is a member of this Group.",
                )
                .mutability(Mutability::Immutable),
                AttrDef::string("display", "A human-readable name for the member."),
                AttrDef::string("type", "A label indicating the type of resource.")
                    .canonical(&["User", "Group"])
                    .mutability(Mutability::Immutable),
            ],
            "A list of members of the Group.",
        )
        .multi(),
    ],
};

/// The User resource type (RFC 7643 §6).
pub static USER_RESOURCE_TYPE: ResourceType = ResourceType {
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA,
    extensions: &[(&ENTERPRISE_SCHEMA, false), (&PORTAL_SCHEMA, false)],
};

/// The Group resource type (RFC 7643 §6).
pub static GROUP_RESOURCE_TYPE: ResourceType = ResourceType {
    id: "Group",
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP_SCHEMA,
    extensions: &[],
};

/// Every resource type the server serves, in discovery order.
pub static RESOURCE_TYPES: &[&ResourceType] = &[&USER_RESOURCE_TYPE, &GROUP_RESOURCE_TYPE];

/// Every schema the server implements, in discovery order.
pub static SCHEMAS: &[&SchemaDef] = &[&USER_SCHEMA, &GROUP_SCHEMA, &ENTERPRISE_SCHEMA, &PORTAL_SCHEMA];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_core_extension_and_common_attributes_case_insensitively() {
        let rt = &USER_RESOURCE_TYPE;
        let r = rt.resolve(None, "USERNAME", None).unwrap();
        assert_eq!(r.attr.name, "userName");
        assert!(r.extension.is_none());
        let r = rt.resolve(None, "name", Some("givenname")).unwrap();
        assert_eq!(r.leaf().name, "givenName");
        let r = rt.resolve(Some(ENTERPRISE_URN), "Manager", Some("value")).unwrap();
        assert_eq!(r.extension.unwrap().id, ENTERPRISE_URN);
        assert_eq!(r.leaf().name, "value");
        let r = rt.resolve(Some(USER_URN), "emails", None).unwrap();
        assert!(r.attr.multi_valued);
        assert_eq!(rt.resolve(None, "meta", Some("lastModified")).unwrap().leaf().ty, AttrType::DateTime);
        assert!(rt.resolve(None, "nosuch", None).is_none());
        assert!(rt.resolve(Some("urn:unknown"), "x", None).is_none());
        assert!(rt.resolve(None, "name", Some("nosuch")).is_none());
    }

    #[test]
    fn user_name_is_case_insensitive_and_id_is_case_exact() {
        let rt = &USER_RESOURCE_TYPE;
        assert!(!rt.resolve(None, "userName", None).unwrap().attr.case_exact);
        assert!(rt.resolve(None, "id", None).unwrap().attr.case_exact);
        assert!(rt.resolve(None, "externalId", None).unwrap().attr.case_exact);
    }
}

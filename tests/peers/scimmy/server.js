// A minimal SCIM 2.0 server built the way SCIMMY's and scimmy-routers' READMEs describe: the bundled User and
// Group resource types declared with in-memory ingress/egress/degress handlers, mounted on Express under /scim.
// It is a peer for scimcheck's CI: what it gets wrong should be SCIMMY's behaviour, not this file's, so the
// handlers only do what SCIMMY leaves to the implementer (storage, ids, timestamps, uniqueness of userName).
//
// Usage: node server.js TOKEN   → prints "SCIM base URI: http://127.0.0.1:PORT/scim" once listening.
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import {randomUUID} from "node:crypto";

const token = process.argv[2];
if (!token) {
    console.error("usage: node server.js TOKEN");
    process.exit(2);
}

SCIMMY.Config.set({patch: true, filter: true, sort: true, etag: false, bulk: true, changePassword: false});

// One in-memory store per resource type. `uniqueKey` is the attribute RFC 7643 marks "uniqueness: server".
function store(uniqueKey) {
    const items = new Map();
    const clash = (value, exceptId) => value !== undefined && [...items.values()]
        .some((r) => r.id !== exceptId && String(r[uniqueKey]).toLowerCase() === String(value).toLowerCase());
    return {
        ingress(resource, instance) {
            const now = new Date().toISOString();
            // The schema instance carries only the attributes the client may write; copy them to a plain object.
            const data = JSON.parse(JSON.stringify(instance));
            if (clash(data[uniqueKey], resource.id))
                throw new SCIMMY.Types.Error(409, "uniqueness", `${uniqueKey} is already in use`);
            if (resource.id) {
                const existing = items.get(resource.id);
                if (!existing) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
                const updated = {...data, id: resource.id, meta: {created: existing.meta.created, lastModified: now}};
                items.set(resource.id, updated);
                return updated;
            }
            const created = {...data, id: randomUUID(), meta: {created: now, lastModified: now}};
            items.set(created.id, created);
            return created;
        },
        egress(resource) {
            if (resource.id) {
                const found = items.get(resource.id);
                if (!found) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
                return found;
            }
            const all = [...items.values()];
            return resource.filter ? resource.filter.match(all) : all;
        },
        degress(resource) {
            if (!items.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        },
    };
}

const users = store("userName");
const groups = store("displayName");
SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false))
    .ingress(users.ingress).egress(users.egress).degress(users.degress);
SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .ingress(groups.ingress).egress(groups.egress).degress(groups.degress);

const app = express();
app.use("/scim", new SCIMMYRouters({
    type: "bearer",
    handler: (request) => {
        if (request.header("Authorization") !== `Bearer ${token}`) throw new Error("Authorization failed");
        // The token stands for no user resource, so nothing is returned and /Me answers 501 (RFC 7644 §3.11).
    },
}));

const server = app.listen(0, "127.0.0.1", () => {
    console.log(`SCIM base URI: http://127.0.0.1:${server.address().port}/scim`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));

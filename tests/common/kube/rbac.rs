//! Kubernetes RBAC as the API server decides it, for checking deploy/'s
//! manifests against the requests a controller actually made (recorded by
//! tests/tools/kube_rv_server.py): each request becomes the authorizer's
//! attributes (verb, API group, resource, subresource, namespace, name), as
//! k8s.io/apiserver's request-info resolver derives them from the path,
//! and is allowed when a rule of a Role or ClusterRole bound to the
//! ServiceAccount matches it, per the RBAC reference
//! (kubernetes.io/docs/reference/access-authn-authz/rbac/).

use std::path::Path;

use serde_json::Value;

/// What the authorizer sees of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    pub verb: String,
    pub group: String,
    /// `resource` or `resource/subresource`.
    pub resource: String,
    pub namespace: String,
    pub name: String,
}

impl Attributes {
    /// `METHOD /path?query` as the API server resolves it; `None` for a
    /// path that is not a resource request (e.g. `/healthz`).
    pub fn of(line: &str) -> Option<Attributes> {
        let (method, target) = line.split_once(' ')?;
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let (group, rest) = match parts.as_slice() {
            ["api", _version, rest @ ..] => (String::new(), rest),
            ["apis", group, _version, rest @ ..] => (group.to_string(), rest),
            _ => return None,
        };
        let (namespace, rest) = match rest {
            // /api/v1/namespaces/NAME is the namespace object itself.
            ["namespaces", ns, rest @ ..] if !rest.is_empty() => (ns.to_string(), rest),
            _ => (String::new(), rest),
        };
        let (resource, name, subresource) = match rest {
            [resource] => (*resource, "", None),
            [resource, name] => (*resource, *name, None),
            [resource, name, sub] => (*resource, *name, Some(*sub)),
            _ => return None,
        };
        let watching = query
            .split('&')
            .any(|kv| kv == "watch=true" || kv == "watch=1");
        let verb = match (method, name.is_empty()) {
            ("GET", true) if watching => "watch",
            ("GET", true) => "list",
            ("GET", false) => "get",
            ("POST", _) => "create",
            ("PATCH", _) => "patch",
            ("PUT", _) => "update",
            ("DELETE", true) => "deletecollection",
            ("DELETE", false) => "delete",
            _ => return None,
        };
        Some(Attributes {
            verb: verb.to_string(),
            group,
            resource: match subresource {
                Some(sub) => format!("{resource}/{sub}"),
                None => resource.to_string(),
            },
            namespace,
            name: name.to_string(),
        })
    }
}

/// The rules granted to one ServiceAccount by a set of manifests.
pub struct Rbac {
    /// (namespace the rules apply in, "" for every namespace; the rules)
    grants: Vec<(String, Vec<Value>)>,
}

impl Rbac {
    /// The grants to ServiceAccount `namespace/account` in the manifests
    /// `files` (multi-document YAML).
    pub fn for_service_account(files: &[&Path], namespace: &str, account: &str) -> Rbac {
        let mut docs = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(f)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
            let parsed: Vec<Value> = serde_saphyr::from_str_multiple(&text)
                .unwrap_or_else(|e| panic!("{} is not YAML: {e}", f.display()));
            docs.extend(parsed.into_iter().filter(|d| d.is_object()));
        }
        let role = |kind: &str, name: &str, ns: &str| -> Vec<Value> {
            docs.iter()
                .find(|d| {
                    d["kind"] == kind
                        && d["metadata"]["name"] == name
                        && (kind == "ClusterRole" || d["metadata"]["namespace"] == ns)
                })
                .and_then(|d| d["rules"].as_array().cloned())
                .unwrap_or_default()
        };
        let mut grants = Vec::new();
        for b in &docs {
            let binds_us = b["subjects"].as_array().is_some_and(|subjects| {
                subjects.iter().any(|s| {
                    s["kind"] == "ServiceAccount"
                        && s["name"] == account
                        && s["namespace"] == namespace
                })
            });
            if !binds_us {
                continue;
            }
            let role_kind = b["roleRef"]["kind"].as_str().unwrap_or("");
            let role_name = b["roleRef"]["name"].as_str().unwrap_or("");
            let binding_ns = b["metadata"]["namespace"].as_str().unwrap_or("");
            match b["kind"].as_str() {
                Some("ClusterRoleBinding") if role_kind == "ClusterRole" => {
                    grants.push((String::new(), role("ClusterRole", role_name, "")));
                }
                Some("RoleBinding") => {
                    let rules = role(role_kind, role_name, binding_ns);
                    grants.push((binding_ns.to_string(), rules));
                }
                _ => {}
            }
        }
        Rbac { grants }
    }

    /// Whether some granted rule allows `a`.
    pub fn allows(&self, a: &Attributes) -> bool {
        let has = |rule: &Value, field: &str, want: &str| {
            rule[field]
                .as_array()
                .is_some_and(|v| v.iter().any(|x| x == "*" || x == want))
        };
        self.grants.iter().any(|(ns, rules)| {
            (ns.is_empty() || *ns == a.namespace)
                && rules.iter().any(|r| {
                    let names = r["resourceNames"].as_array().filter(|v| !v.is_empty());
                    has(r, "verbs", &a.verb)
                        && has(r, "apiGroups", &a.group)
                        && has(r, "resources", &a.resource)
                        && names
                            .is_none_or(|v| !a.name.is_empty() && v.iter().any(|n| n == &a.name))
                })
        })
    }

    /// The request lines (`METHOD /path?query`) the grants do not allow.
    pub fn denied<'a>(&self, lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut out: Vec<String> = lines
            .into_iter()
            .filter(|l| Attributes::of(l).is_some_and(|a| !self.allows(&a)))
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

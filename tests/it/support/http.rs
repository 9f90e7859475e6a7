//! HTTP helpers on `TestApp`: they remember every credential a response
//! hands out (for the leak scan) and fail the test on any 5xx.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::TestApp;

impl TestApp {
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Send a request. `body` is sent verbatim as JSON text when given.
    /// Panics on any 5xx: no input may make Asgard fail internally.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let mut rb = self.client.request(method.clone(), self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let mut has_ct = false;
        for (k, v) in headers {
            has_ct |= k.eq_ignore_ascii_case("content-type");
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            if !has_ct {
                rb = rb.header("content-type", "application/json");
            }
            rb = rb.body(b);
        }
        let r = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: request failed: {e}"));
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let resp = Resp {
            method: method.to_string(),
            path: path.to_string(),
            status,
            headers,
            text,
        };
        assert!(
            status < 500,
            "{method} {path} answered {status} (never a 5xx): {}",
            resp.text
        );
        // Remember any credential a response hands out.
        if let Ok(v) = serde_json::from_str::<Value>(&resp.text) {
            for k in ["token", "key"] {
                if let Some(s) = v.get(k).and_then(Value::as_str)
                    && s.len() >= 12
                {
                    self.remember(s);
                }
            }
        }
        resp
    }

    pub async fn req(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let body = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.send(method, path, token, &[], body).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.req(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.req(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.req(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.req(Method::DELETE, path, token, None).await
    }

    /// Log in; returns the session token (asserting 200).
    pub async fn login(&self, user: &str, password: &str) -> String {
        let r = self
            .post(
                "/api/auth/login",
                None,
                json!({"username": user, "password": password}),
            )
            .await;
        r.expect(200);
        let tok = r.json()["token"].as_str().expect("token").to_string();
        assert!(!tok.is_empty());
        tok
    }

    pub async fn admin_token(&self) -> String {
        assert!(!self.admin_password.is_empty(), "admin password unknown");
        self.login("admin", &self.admin_password.clone()).await
    }

    /// Register a project (asserting 201); returns the project object.
    pub async fn register_project(&self, token: &str, body: Value) -> Value {
        let r = self.post("/api/projects", Some(token), body).await;
        r.expect(201);
        r.json()
    }

    /// Register a project for the runbook's owner under `platform`.
    pub async fn register_named(&self, token: &str, name: &str) -> String {
        let p = self
            .register_project(
                token,
                json!({"name": name, "owner_email": "owner@corp.example",
                       "manager_email": "mgr@corp.example", "group": "platform", "budget_usd": 10}),
            )
            .await;
        p["project_id"].as_str().unwrap().to_string()
    }

    /// Mint a project key (asserting 201); returns the response object.
    pub async fn mint_key(&self, token: &str, project_id: &str, name: &str) -> Value {
        let r = self
            .post(
                &format!("/api/projects/{project_id}/keys"),
                Some(token),
                json!({"name": name}),
            )
            .await;
        r.expect(201);
        r.json()
    }

    /// Mint a PAT (asserting 201); returns the response object.
    pub async fn mint_pat(&self, token: &str, name: &str) -> Value {
        let r = self
            .post("/api/auth/tokens", Some(token), json!({"name": name}))
            .await;
        r.expect(201);
        r.json()
    }

    /// One MCP `tools/call` with a credential (asserting HTTP 200); returns
    /// the JSON-RPC `result` (`isError`, `structuredContent`, `content`).
    pub async fn tool_call(&self, cred: &str, tool: &str, args: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                          "params": {"name": tool, "arguments": args}});
        let r = self
            .send(
                Method::POST,
                "/mcp",
                Some(cred),
                &[
                    ("accept", "application/json, text/event-stream"),
                    ("content-type", "application/json"),
                    ("mcp-protocol-version", "2025-11-25"),
                ],
                Some(serde_json::to_vec(&body).unwrap()),
            )
            .await;
        r.expect(200);
        let v: Value = r
            .text
            .lines()
            .find_map(|l| serde_json::from_str(l.trim_start_matches("data:").trim()).ok())
            .unwrap_or(Value::Null);
        v["result"].clone()
    }

    /// Create a user as admin (asserting 201); returns its id.
    pub async fn create_user(
        &self,
        admin: &str,
        username: &str,
        email: &str,
        password: &str,
        role: &str,
    ) -> String {
        self.remember(password);
        let r = self
            .post(
                "/api/users",
                Some(admin),
                json!({"username": username, "email": email, "password": password, "role": role}),
            )
            .await;
        r.expect(201);
        r.json()["id"].as_str().unwrap().to_string()
    }
}

/// A response, read fully.
#[derive(Debug)]
pub struct Resp {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "{} {}: body is not JSON ({e}): {:?}",
                self.method, self.path, self.text
            )
        })
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "{} {}: expected {status}, got {}: {}",
            self.method, self.path, self.status, self.text
        );
        self
    }

    /// Check for an error envelope with this status and code (and a message
    /// and hint); returns the error object, or what is wrong.
    pub fn check_error(&self, status: u16, code: &str) -> Result<Value, String> {
        let what = format!("{} {}", self.method, self.path);
        if self.status != status {
            return Err(format!(
                "{what}: expected {status} {code}, got {}: {}",
                self.status, self.text
            ));
        }
        let ct = self.header("content-type").unwrap_or_default();
        if !ct.starts_with("application/json") {
            return Err(format!("{what}: error content-type is {ct:?}"));
        }
        let v: Value = serde_json::from_str(&self.text)
            .map_err(|e| format!("{what}: error body is not JSON ({e}): {:?}", self.text))?;
        let e = v["error"].clone();
        if e["code"] != code {
            return Err(format!("{what}: expected code {code}: {}", self.text));
        }
        if e["message"].as_str().is_none_or(str::is_empty) || !e["hint"].is_string() {
            return Err(format!(
                "{what}: error without message or hint: {}",
                self.text
            ));
        }
        Ok(e)
    }

    /// Check for 422 invalid_request naming `field`.
    pub fn check_invalid(&self, field: &str) -> Result<(), String> {
        let e = self.check_error(422, "invalid_request")?;
        if e["field"] != field {
            return Err(format!(
                "{} {}: expected field {field:?}: {}",
                self.method, self.path, self.text
            ));
        }
        Ok(())
    }

    /// Assert an error envelope with this status and code; returns the error object.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        self.check_error(status, code)
            .unwrap_or_else(|m| panic!("{m}"))
    }

    /// Assert 422 invalid_request naming `field`.
    #[track_caller]
    pub fn expect_invalid(&self, field: &str) {
        if let Err(m) = self.check_invalid(field) {
            panic!("{m}");
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// Soft assertions: collect every failed check, report them all at the end,
/// so one broken case does not hide the others.
#[derive(Default)]
pub struct Fails(pub Vec<String>);

impl Fails {
    pub fn check<T>(&mut self, r: Result<T, String>) {
        if let Err(m) = r {
            self.0.push(m);
        }
    }

    pub fn push(&mut self, m: impl Into<String>) {
        self.0.push(m.into());
    }

    #[track_caller]
    pub fn assert_none(&self, what: &str) {
        assert!(
            self.0.is_empty(),
            "{what}: {} check(s) failed:\n  - {}",
            self.0.len(),
            self.0.join("\n  - ")
        );
    }
}

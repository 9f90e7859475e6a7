//! AWS Signature Version 4 for the few JSON-protocol calls Asgard makes itself.
//!
//! Asgard calls AWS for exactly one thing at boot (Secrets Manager `GetSecretValue`), so a
//! full SDK (hundreds of crates) is not worth its compile time on small build machines. The
//! algorithm is short and fully specified; the tests pin it to AWS's published test vector.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Credentials to sign with. `Debug` never prints the secret part.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// Where they came from ("environment", "ECS container credentials", …), for error messages.
    pub source: &'static str,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// One request to sign. Header names must be lower-case; `host` must be among them, written
/// exactly as it goes on the wire (with the port when the URL names one).
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Already canonical (sorted, encoded) query string; empty for the JSON protocol.
    pub query: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

/// Signs `req` and returns the headers to add: `x-amz-date`, `x-amz-security-token` (with a
/// session token) and `authorization`. `amz_date` is `YYYYMMDDTHHMMSSZ`.
pub fn sign(
    req: &Request<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
) -> Vec<(String, String)> {
    let date = &amz_date[..8.min(amz_date.len())];
    let mut headers = req.headers.clone();
    headers.push(("x-amz-date".into(), amz_date.to_string()));
    if let Some(t) = &creds.session_token {
        headers.push(("x-amz-security-token".into(), t.clone()));
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        req.path,
        req.query,
        canonical_headers,
        signed_headers,
        hex::encode(Sha256::digest(req.body))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let mut out = vec![("x-amz-date".to_string(), amz_date.to_string())];
    if let Some(t) = &creds.session_token {
        out.push(("x-amz-security-token".into(), t.clone()));
    }
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_string),
            source: "test",
        }
    }

    /// The `authorization` header for AWS's SigV4 test-suite request
    /// `<method>-vanilla` (no query, no body, only `host`).
    fn vanilla_authorization(method: &str) -> String {
        let req = Request {
            method,
            path: "/",
            query: "",
            headers: vec![("host".into(), "example.amazonaws.com".into())],
            body: b"",
        };
        let out = sign(
            &req,
            &example_creds(None),
            "us-east-1",
            "service",
            "20150830T123600Z",
        );
        out.into_iter()
            .find(|(k, _)| k == "authorization")
            .unwrap()
            .1
    }

    /// AWS's SigV4 test suite, case `get-vanilla`.
    #[test]
    fn get_vanilla_vector() {
        assert_eq!(
            vanilla_authorization("GET"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// AWS's SigV4 test suite, case `post-vanilla`.
    #[test]
    fn post_vanilla_vector() {
        let auth = vanilla_authorization("POST");
        assert!(
            auth.ends_with(
                "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
            ),
            "{auth}"
        );
    }

    #[test]
    fn session_token_is_signed_and_sent() {
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![("host".into(), "example.amazonaws.com".into())],
            body: b"{}",
        };
        let out = sign(
            &req,
            &example_creds(Some("TOKEN")),
            "us-east-1",
            "secretsmanager",
            "20150830T123600Z",
        );
        assert!(out.contains(&("x-amz-security-token".into(), "TOKEN".into())));
        let auth = &out.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert!(auth.contains("SignedHeaders=host;x-amz-date;x-amz-security-token"));
    }

    #[test]
    fn debug_hides_the_secret() {
        let text = format!("{:?}", example_creds(Some("TOKEN")));
        assert!(
            !text.contains("EXAMPLEKEY") && !text.contains("TOKEN"),
            "{text}"
        );
    }
}

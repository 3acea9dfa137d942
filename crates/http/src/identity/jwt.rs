//! JWT mode: the caller is the `sub` claim of a bearer token whose signature, algorithm and
//! times this server verifies itself ([`JwtVerifier`]), read from `Authorization: Bearer`
//! ([`bearer_token`]).

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use provider_domain::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const JWT_LEEWAY_SECS: u64 = 60;

/// `JWT_ROLES_CLAIM`'s default: the claim holding the caller's roles (an array of strings).
pub const DEFAULT_ROLES_CLAIM: &str = "roles";

/// The role that makes a caller a moderator of reviews.
pub const MODERATOR_ROLE: &str = "moderator";

/// What a verified token proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proven {
    /// Its `sub`.
    pub user: UserId,
    /// True when its roles claim holds [`MODERATOR_ROLE`].
    pub moderator: bool,
}

/// Shortest HS256 secret accepted, in bytes (the key must be as long as the hash).
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// Where the key that verifies tokens comes from (exactly one).
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// An HS256 shared secret (at least [`MIN_HS256_SECRET_BYTES`] bytes).
    Hs256Secret(Vec<u8>),
    /// A PEM public key (`PUBLIC KEY`, SPKI): RSA for RS256, EC P-256 for ES256.
    PublicKeyPem(Vec<u8>),
    /// A JWKS document (JSON); each token's `kid` picks its key. RSA (RS256) and EC P-256
    /// (ES256) keys only.
    Jwks(Vec<u8>),
}

/// What JWT mode checks besides the signature.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The verifying key.
    pub key: JwtKey,
    /// When set, tokens must carry this `iss`.
    pub issuer: Option<String>,
    /// When set, tokens must carry this audience in `aud` (a string or an array).
    pub audience: Option<String>,
    /// The claim holding the caller's roles, an array of strings (`JWT_ROLES_CLAIM`, default
    /// [`DEFAULT_ROLES_CLAIM`]): holding [`MODERATOR_ROLE`] makes the caller a moderator.
    pub roles_claim: String,
}

/// Why JWT mode cannot start.
#[derive(Debug, thiserror::Error)]
pub enum JwtConfigError {
    /// The HS256 secret is too short to be safe.
    #[error("the HS256 secret has {0} bytes; at least {MIN_HS256_SECRET_BYTES} are required")]
    SecretTooShort(usize),
    /// The PEM file holds no RSA or EC P-256 public key.
    #[error("the public key is neither an RSA nor an EC P-256 public key in PEM (SPKI): {0}")]
    Pem(String),
    /// The JWKS document cannot be used.
    #[error("the JWKS document cannot be used: {0}")]
    Jwks(String),
    /// This build has no crypto backend for jsonwebtoken.
    #[error("no JWT crypto backend is available in this build")]
    NoCryptoBackend,
}

/// One verifying key with the only algorithm it accepts.
#[derive(Clone)]
struct VerifyingKey {
    key: DecodingKey,
    validation: Validation,
}

/// Checks bearer tokens: signature with the configured key and algorithm only, `exp` required,
/// `nbf` honoured, [`JWT_LEEWAY_SECS`] of leeway, `iss`/`aud` when configured, and a `sub` that
/// is a UUID.
pub struct JwtVerifier {
    /// One key (its `kid`, when it has one) or several chosen by `kid`.
    keys: Vec<(Option<String>, VerifyingKey)>,
    /// Tokens already verified, with what they prove and when they are valid: a client sends
    /// the same token with every request, and its signature and claims cannot change, so only
    /// the times are checked again. Bounded: emptied when full.
    ///
    /// Hashed with foldhash, not SipHash: hashing a whole token with SipHash was a visible
    /// share of a request's cost, and flooding attacks do not apply (only tokens whose
    /// signature verified are ever inserted).
    verified: Mutex<HashMap<Box<str>, Verified, foldhash::fast::RandomState>>,
    /// The claim holding the caller's roles.
    roles_claim: String,
}

/// What a verified token proves, and the times that bound it (seconds since the epoch).
#[derive(Debug, Clone, Copy)]
struct Verified {
    user: UserId,
    moderator: bool,
    exp: f64,
    nbf: Option<f64>,
}

impl Verified {
    const fn proven(&self) -> Proven {
        Proven {
            user: self.user,
            moderator: self.moderator,
        }
    }

    /// The same time checks as jsonwebtoken's, with the same leeway.
    fn valid_at(&self, now: f64) -> bool {
        let leeway = JWT_LEEWAY_SECS as f64;
        self.exp >= now - leeway && self.nbf.is_none_or(|nbf| nbf <= now + leeway)
    }
}

/// Most verified tokens remembered at once.
const VERIFIED_TOKENS: usize = 10_000;

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithms: Vec<_> = self
            .keys
            .iter()
            .map(|(kid, k)| (kid.clone(), k.validation.algorithms.clone()))
            .collect();
        f.debug_struct("JwtVerifier")
            .field("keys", &algorithms)
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    /// Every other claim: the roles claim is among them (its name is a setting).
    #[serde(flatten)]
    other: HashMap<String, serde_json::Value>,
}

impl JwtVerifier {
    /// Loads the key and fixes the checks.
    ///
    /// # Errors
    /// A key that is missing, too short, of an unsupported kind, or unreadable.
    pub fn new(settings: &JwtSettings) -> Result<Self, JwtConfigError> {
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            return Err(JwtConfigError::NoCryptoBackend);
        }
        let checks = |algorithm| validation(algorithm, settings);
        let keys = match &settings.key {
            JwtKey::Hs256Secret(secret) => {
                if secret.len() < MIN_HS256_SECRET_BYTES {
                    return Err(JwtConfigError::SecretTooShort(secret.len()));
                }
                let key = DecodingKey::from_secret(secret)
                    .map_err(|e| JwtConfigError::Pem(e.to_string()))?;
                vec![(
                    None,
                    VerifyingKey {
                        key,
                        validation: checks(Algorithm::HS256),
                    },
                )]
            }
            JwtKey::PublicKeyPem(pem) => vec![(None, public_key(pem, &checks)?)],
            JwtKey::Jwks(json) => jwks(json, &checks)?,
        };
        Ok(Self {
            keys,
            verified: Mutex::new(HashMap::default()),
            roles_claim: settings.roles_claim.clone(),
        })
    }

    /// The caller a token proves, or why it proves nothing.
    ///
    /// # Errors
    /// A sentence saying what is wrong with the token.
    pub fn verify(&self, token: &str) -> Result<Proven, String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.verify_at(token, now)
    }

    /// [`JwtVerifier::verify`] at `now` (seconds since the epoch). A token verified before is
    /// only checked against the clock again; any other is verified in full.
    fn verify_at(&self, token: &str, now: f64) -> Result<Proven, String> {
        let known = self
            .verified
            .lock()
            .ok()
            .and_then(|v| v.get(token).copied());
        if let Some(known) = known {
            if known.valid_at(now) {
                return Ok(known.proven());
            }
        }
        let verified = self.verify_fully(token)?;
        if let Ok(mut cache) = self.verified.lock() {
            if cache.len() >= VERIFIED_TOKENS {
                cache.clear();
            }
            cache.insert(token.into(), verified);
        }
        Ok(verified.proven())
    }

    /// Signature, algorithm, claims and times, by jsonwebtoken; then `sub`.
    fn verify_fully(&self, token: &str) -> Result<Verified, String> {
        if token.is_empty() {
            return Err("the bearer token is empty".into());
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| "the bearer token is not a well-formed JWT".to_owned())?;
        let key = match (self.keys.as_slice(), header.kid.as_deref()) {
            ([(None, key)], _) => key,
            ([(Some(own), key)], kid) if kid.is_none_or(|kid| kid == own) => key,
            (keys, Some(kid)) if keys.len() > 1 => {
                &keys
                    .iter()
                    .find(|(k, _)| k.as_deref() == Some(kid))
                    .ok_or("the token's key id (kid) is not one of this server's keys")?
                    .1
            }
            (keys, None) if keys.len() > 1 => {
                return Err("the token has no key id (kid) to choose its key by".into())
            }
            _ => return Err("the token's key id (kid) is not one of this server's keys".into()),
        };
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &key.validation)
            .map_err(|e| reason(e.kind()))?
            .claims;
        let sub = claims.sub.ok_or("the token has no sub claim")?;
        let user = Uuid::parse_str(&sub)
            .map(UserId::from_uuid)
            .map_err(|_| "the token's sub claim is not a UUID".to_owned())?;
        // A roles claim of another shape proves no role (it does not make the token invalid:
        // the caller is still who `sub` says).
        let moderator = claims
            .other
            .get(&self.roles_claim)
            .and_then(serde_json::Value::as_array)
            .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(MODERATOR_ROLE)));
        Ok(Verified {
            user,
            moderator,
            // `exp` is required, so jsonwebtoken has checked it is there.
            exp: claims.exp.unwrap_or(f64::NEG_INFINITY),
            nbf: claims.nbf,
        })
    }
}

fn validation(algorithm: Algorithm, settings: &JwtSettings) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = JWT_LEEWAY_SECS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = vec!["exp"];
    if let Some(issuer) = &settings.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match &settings.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        // Unset: the audience is not checked at all, whatever the token says.
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

fn public_key(
    pem: &[u8],
    checks: &impl Fn(Algorithm) -> Validation,
) -> Result<VerifyingKey, JwtConfigError> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok(VerifyingKey {
            key,
            validation: checks(Algorithm::RS256),
        });
    }
    let key = DecodingKey::from_ec_pem(pem).map_err(|e| JwtConfigError::Pem(e.to_string()))?;
    // An uncompressed P-256 point is 65 bytes; a P-384 key would fail every ES256 token.
    match key.try_get_as_bytes() {
        Ok(point) if point.len() == 65 => Ok(VerifyingKey {
            key,
            validation: checks(Algorithm::ES256),
        }),
        _ => Err(JwtConfigError::Pem(
            "the EC key is not on the P-256 curve".into(),
        )),
    }
}

fn jwks(
    json: &[u8],
    checks: &impl Fn(Algorithm) -> Validation,
) -> Result<Vec<(Option<String>, VerifyingKey)>, JwtConfigError> {
    let set: JwkSet =
        serde_json::from_slice(json).map_err(|e| JwtConfigError::Jwks(e.to_string()))?;
    if set.keys.is_empty() {
        return Err(JwtConfigError::Jwks("it has no keys".into()));
    }
    let several = set.keys.len() > 1;
    let mut keys = Vec::with_capacity(set.keys.len());
    for (i, jwk) in set.keys.iter().enumerate() {
        let kid = jwk.common.key_id.clone();
        if several && kid.is_none() {
            return Err(JwtConfigError::Jwks(format!(
                "key {i} has no kid, which is required with several keys"
            )));
        }
        let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => {
                return Err(JwtConfigError::Jwks(format!(
                    "key {i} is neither an RSA key for RS256 nor an EC P-256 key for ES256"
                )))
            }
        };
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| JwtConfigError::Jwks(format!("key {i}: {e}")))?;
        keys.push((
            kid,
            VerifyingKey {
                key,
                validation: checks(algorithm),
            },
        ));
    }
    Ok(keys)
}

/// A sentence for why jsonwebtoken refused a token.
fn reason(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the token's algorithm is not the one this server accepts".into()
        }
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not accepted".into(),
        ErrorKind::InvalidAudience => "the token's audience (aud) is not accepted".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        _ => "the bearer token is not a well-formed JWT".into(),
    }
}

/// What the `Authorization` header carries: nothing usable (absent, or another scheme), or a
/// bearer token (possibly empty).
pub(crate) fn bearer_token(req: &actix_web::HttpRequest) -> Option<&str> {
    // On bytes: `HeaderValue::to_str` checks a whole token byte by byte, a visible share of a
    // request's cost. A value that is not ASCII is not usable, as before.
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .as_bytes()
        .trim_ascii();
    if !value.is_ascii() {
        return None;
    }
    let (scheme, token) = match value.iter().position(|&b| b == b' ') {
        Some(space) => (&value[..space], &value[space + 1..]),
        None => (value, &b""[..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    // ASCII is UTF-8: this cannot fail.
    std::str::from_utf8(token.trim_ascii()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};

    const SECRET: &str = "a-unit-test-secret-of-32-bytes-at-least";

    fn bearer_of(value: &[u8]) -> Option<String> {
        let req = actix_web::test::TestRequest::default()
            .insert_header((
                actix_web::http::header::AUTHORIZATION,
                actix_web::http::header::HeaderValue::from_bytes(value).unwrap(),
            ))
            .to_http_request();
        bearer_token(&req).map(str::to_owned)
    }

    #[test]
    fn the_bearer_token_is_read_from_the_authorization_header() {
        assert_eq!(
            bearer_of(b"Bearer abc.def.ghi").as_deref(),
            Some("abc.def.ghi")
        );
        assert_eq!(
            bearer_of(b"  bEaReR   abc.def  ").as_deref(),
            Some("abc.def")
        );
        assert_eq!(bearer_of(b"Bearer").as_deref(), Some(""));
        assert_eq!(bearer_of(b"Basic dXNlcjpwYXNz"), None);
        assert_eq!(
            bearer_of(b"Bearer abc\xff.def"),
            None,
            "not ASCII: not usable"
        );
        let none = actix_web::test::TestRequest::default().to_http_request();
        assert_eq!(bearer_token(&none), None);
    }

    fn verifier() -> JwtVerifier {
        JwtVerifier::new(&JwtSettings {
            key: JwtKey::Hs256Secret(SECRET.into()),
            issuer: None,
            audience: None,
            roles_claim: DEFAULT_ROLES_CLAIM.into(),
        })
        .unwrap()
    }

    fn token(claims: serde_json::Value) -> String {
        let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
        encode(&Header::default(), &claims, &key).unwrap()
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let verifier = verifier();
        let exp = 4_000_000_000_u64;
        let token = token(serde_json::json!({"sub": Uuid::new_v4().to_string(), "exp": exp}));
        assert!(verifier.verify(&token).is_ok());
        let remembered = verifier
            .verified
            .lock()
            .unwrap()
            .get(token.as_str())
            .copied()
            .unwrap();

        let leeway = JWT_LEEWAY_SECS as f64;
        assert!(remembered.valid_at(exp as f64 + leeway));
        assert!(!remembered.valid_at(exp as f64 + leeway + 1.0));
    }

    #[test]
    fn a_remembered_token_is_not_accepted_before_its_nbf() {
        let verifier = verifier();
        let claims = serde_json::json!({"sub": Uuid::new_v4().to_string(), "exp": 4_000_000_000_u64, "nbf": 1_000});
        let token = token(claims);
        assert!(verifier.verify(&token).is_ok());
        let remembered = verifier
            .verified
            .lock()
            .unwrap()
            .get(token.as_str())
            .copied()
            .unwrap();

        assert!(!remembered.valid_at(1_000.0 - JWT_LEEWAY_SECS as f64 - 1.0));
        assert!(remembered.valid_at(1_000.0 - JWT_LEEWAY_SECS as f64));
    }
}

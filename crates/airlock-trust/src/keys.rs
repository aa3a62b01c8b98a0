//! Publisher key pairs (Ed25519, RFC 8032, by `ed25519-dalek`), their files
//! and fingerprints.
//!
//! A fingerprint is `SHA256:` and the hex sha256 of the 32-byte public key;
//! it is how the manifest, the trust store and the admin policy name a key.
//! Key files are small TOML documents; the secret key file is created with
//! mode 0600 and refused when anyone else can read it. With a passphrase, the
//! seed is encrypted with ChaCha20-Poly1305 under a key derived by Argon2id
//! (the publisher name is authenticated with it).

// Ambient std::fs allowed: reads and writes publisher key files the user names.
#![allow(clippy::disallowed_methods)]

use airlock_core::names::NameError;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

const SECRET_FORMAT: &str = "airlock-ed25519-secret-key-1";
const PUBLIC_FORMAT: &str = "airlock-ed25519-public-key-1";

/// Prefixed to the manifest before signing, so a signature made for
/// anything else can never pass as a package signature.
pub const SIGNING_CONTEXT: &[u8] = b"airlock-plugin-manifest-v1\n";

/// A key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Unreadable.
    #[error("cannot read key file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a key file of the expected kind.
    #[error("{} is not an Airlock {kind} key file: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// `public` or `secret`.
        kind: &'static str,
        /// What is wrong.
        reason: InvalidKey,
    },
    /// A secret key others can read.
    #[error(
        "refusing to use secret key {}: its mode is {mode:04o}, so others can read it; run `chmod 600 {}`",
        path.display(), path.display()
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The passphrase does not open the key (or the file was changed).
    #[error("cannot open secret key {}: wrong passphrase, or the file was modified", path.display())]
    WrongPassphrase {
        /// The file.
        path: PathBuf,
    },
    /// Writing a key failed (or the file exists).
    #[error("cannot write key file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A new key's publisher name is not a valid name.
    #[error("{0}")]
    Publisher(#[from] NameError),
    /// The operating system gave no randomness for a new key.
    #[error("no randomness: {0}")]
    NoRandomness(getrandom::Error),
}

/// What is wrong with the text of a key file.
#[derive(Debug, thiserror::Error)]
pub enum InvalidKey {
    /// Not TOML, or not the keys of a key file.
    #[error("{}", .0.message())]
    Toml(Box<toml::de::Error>),
    /// `format` names another kind of file.
    #[error("format is `{found}`, expected `{expected}`")]
    Format {
        /// The file's `format`.
        found: String,
        /// The format of this kind of key file.
        expected: &'static str,
    },
    /// `publisher` is not a valid publisher name.
    #[error("{0}")]
    Publisher(#[from] NameError),
    /// `public-key` is not 32 bytes of hex.
    #[error("public-key is not 32 bytes of hex")]
    PublicKeyNotHex,
    /// `public-key` is not a point on the curve.
    #[error("public-key is not a valid Ed25519 point")]
    PublicKeyNotAPoint,
    /// `secret-key` is not hex.
    #[error("secret-key is not hex")]
    SecretKeyNotHex,
    /// `encrypted-secret-key` is not hex.
    #[error("encrypted-secret-key is not hex")]
    EncryptedKeyNotHex,
    /// `encrypted-secret-key` is not a nonce and a sealed seed.
    #[error("encrypted-secret-key has the wrong length")]
    EncryptedKeyLength,
    /// Neither a clear nor an encrypted key (or both).
    #[error("it needs either secret-key, or encrypted-secret-key with [kdf]")]
    NoSecretKey,
    /// The seed is not 32 bytes.
    #[error("the secret key is not 32 bytes")]
    SecretKeyLength,
    /// `kdf.algorithm` is not Argon2id.
    #[error("kdf.algorithm is `{0}`, expected `{expected}`", expected = KDF_ALGORITHM)]
    KdfAlgorithm(String),
    /// `[kdf]` asks for more memory, time or lanes than Airlock allows.
    #[error("kdf parameters are beyond what Airlock accepts")]
    KdfTooCostly,
    /// `kdf.salt` is not hex.
    #[error("kdf.salt is not hex")]
    KdfSaltNotHex,
    /// Argon2 refuses the `[kdf]` parameters.
    #[error("kdf parameters: {0}")]
    KdfParameters(argon2::Error),
    /// Argon2 failed to derive the key.
    #[error("cannot derive the key: {0}")]
    Derive(argon2::Error),
    /// The key is encrypted and the caller could not give a passphrase
    /// (the caller's own error).
    #[error("{0}")]
    NoPassphrase(Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PublicFile {
    format: String,
    publisher: String,
    public_key: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SecretFile {
    format: String,
    publisher: String,
    /// The seed in the clear (no passphrase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret_key: Option<String>,
    /// Nonce (12 bytes) and sealed seed (48 bytes), hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encrypted_secret_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kdf: Option<Kdf>,
}

/// How the encryption key is derived from the passphrase.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Kdf {
    algorithm: String,
    salt: String,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

const KDF_ALGORITHM: &str = "argon2id";
/// OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
const KDF_MEMORY_KIB: u32 = 19 * 1024;
const KDF_ITERATIONS: u32 = 2;
/// Files with more are refused rather than left to exhaust memory or time.
const KDF_MAX_MEMORY_KIB: u32 = 1024 * 1024;
const KDF_MAX_ITERATIONS: u32 = 64;

fn derive(passphrase: &str, kdf: &Kdf) -> Result<[u8; 32], InvalidKey> {
    use argon2::{Algorithm, Argon2, Params, Version};
    if kdf.algorithm != KDF_ALGORITHM {
        return Err(InvalidKey::KdfAlgorithm(kdf.algorithm.clone()));
    }
    if kdf.memory_kib > KDF_MAX_MEMORY_KIB
        || kdf.iterations > KDF_MAX_ITERATIONS
        || kdf.parallelism > 16
    {
        return Err(InvalidKey::KdfTooCostly);
    }
    let salt = hex::decode(&kdf.salt).map_err(|_| InvalidKey::KdfSaltNotHex)?;
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(InvalidKey::KdfParameters)?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, &mut key)
        .map_err(InvalidKey::Derive)?;
    Ok(key)
}

fn aad(publisher: &str) -> Vec<u8> {
    format!("{SECRET_FORMAT}\n{publisher}").into_bytes()
}

/// A publisher's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The publisher's name, as the key file states it.
    pub publisher: String,
    key: VerifyingKey,
}

/// The fingerprint of a public key: `SHA256:<hex of sha256(key)>`.
fn fingerprint_of(key: &VerifyingKey) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// Whether `text` has the form of a fingerprint.
pub fn is_fingerprint(text: &str) -> bool {
    text.strip_prefix("SHA256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

impl PublicKey {
    /// The key's fingerprint, `SHA256:<hex>`.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.key)
    }

    /// Read a `.pub` file.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|reason| KeyError::Invalid {
            path: path.to_path_buf(),
            kind: "public",
            reason,
        })
    }

    /// Parse the text of a `.pub` file.
    pub fn parse(text: &str) -> Result<Self, InvalidKey> {
        let file: PublicFile = toml::from_str(text).map_err(|e| InvalidKey::Toml(Box::new(e)))?;
        if file.format != PUBLIC_FORMAT {
            return Err(InvalidKey::Format {
                found: file.format,
                expected: PUBLIC_FORMAT,
            });
        }
        super::check_name(super::NameKind::Publisher, &file.publisher)?;
        let bytes: [u8; 32] = hex::decode(&file.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(InvalidKey::PublicKeyNotHex)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| InvalidKey::PublicKeyNotAPoint)?;
        Ok(Self {
            publisher: file.publisher,
            key,
        })
    }

    /// The text of a `.pub` file.
    pub fn to_text(&self) -> String {
        let body = toml::to_string(&PublicFile {
            format: PUBLIC_FORMAT.into(),
            publisher: self.publisher.clone(),
            public_key: hex::encode(self.key.as_bytes()),
        })
        .unwrap_or_default();
        format!(
            "# Airlock plugin publisher key (Ed25519). Fingerprint: {}\n{body}",
            self.fingerprint()
        )
    }

    /// Whether `signature` is this key's signature of `manifest`. Strict
    /// verification: no malleable or small-order encodings.
    pub fn verifies(&self, manifest: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key
            .verify_strict(&signed_message(manifest), &signature)
            .is_ok()
    }
}

fn signed_message(manifest: &[u8]) -> Vec<u8> {
    [SIGNING_CONTEXT, manifest].concat()
}

/// What a release key signs: an offline bundle's manifest. A context of its
/// own, so that a plugin signature can never stand for a bundle's, nor the
/// other way round, even when one key were used for both.
pub const RELEASE_CONTEXT: &[u8] = b"airlock-release-manifest-v1\n";

impl PublicKey {
    /// Whether `signature` is this key's signature of the bundle manifest
    /// `manifest` (strict, as [`Self::verifies`]).
    pub fn verifies_release(&self, manifest: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key
            .verify_strict(&[RELEASE_CONTEXT, manifest].concat(), &signature)
            .is_ok()
    }
}

impl SecretKey {
    /// Sign an offline bundle's manifest as a release.
    pub fn sign_release(&self, manifest: &[u8]) -> [u8; 64] {
        self.key
            .sign(&[RELEASE_CONTEXT, manifest].concat())
            .to_bytes()
    }
}

/// A publisher's secret key.
pub struct SecretKey {
    /// The publisher's name.
    pub publisher: String,
    key: SigningKey,
}

impl SecretKey {
    /// A new random key pair from the operating system's generator.
    pub fn generate(publisher: &str) -> Result<Self, KeyError> {
        super::check_name(super::NameKind::Publisher, publisher)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(KeyError::NoRandomness)?;
        Ok(Self {
            publisher: publisher.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            publisher: self.publisher.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Sign a manifest.
    pub fn sign(&self, manifest: &[u8]) -> [u8; 64] {
        self.key.sign(&signed_message(manifest)).to_bytes()
    }

    /// Read a secret key file; refused when group or others may read it.
    /// `passphrase` is asked only when the key is encrypted; its error (say,
    /// no terminal to ask on) becomes [`InvalidKey::NoPassphrase`].
    pub fn read<E>(
        path: &Path,
        passphrase: &dyn Fn() -> Result<String, E>,
    ) -> Result<Self, KeyError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| KeyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |reason: InvalidKey| KeyError::Invalid {
            path: path.to_path_buf(),
            kind: "secret",
            reason,
        };
        let file: SecretFile =
            toml::from_str(&text).map_err(|e| invalid(InvalidKey::Toml(Box::new(e))))?;
        if file.format != SECRET_FORMAT {
            return Err(invalid(InvalidKey::Format {
                found: file.format,
                expected: SECRET_FORMAT,
            }));
        }
        let seed: Vec<u8> = match (&file.secret_key, &file.encrypted_secret_key, &file.kdf) {
            (Some(clear), None, None) => {
                hex::decode(clear).map_err(|_| invalid(InvalidKey::SecretKeyNotHex))?
            }
            (None, Some(sealed), Some(kdf)) => {
                use chacha20poly1305::aead::{Aead, KeyInit, Payload};
                let sealed =
                    hex::decode(sealed).map_err(|_| invalid(InvalidKey::EncryptedKeyNotHex))?;
                if sealed.len() != 12 + 48 {
                    return Err(invalid(InvalidKey::EncryptedKeyLength));
                }
                let passphrase =
                    passphrase().map_err(|e| invalid(InvalidKey::NoPassphrase(e.into())))?;
                let key = derive(&passphrase, kdf).map_err(invalid)?;
                let cipher = chacha20poly1305::ChaCha20Poly1305::new((&key).into());
                let (nonce, sealed) = sealed.split_at(12);
                cipher
                    .decrypt(
                        nonce.into(),
                        Payload {
                            msg: sealed,
                            aad: &aad(&file.publisher),
                        },
                    )
                    .map_err(|_| KeyError::WrongPassphrase {
                        path: path.to_path_buf(),
                    })?
            }
            _ => {
                return Err(invalid(InvalidKey::NoSecretKey));
            }
        };
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| invalid(InvalidKey::SecretKeyLength))?;
        Ok(Self {
            publisher: file.publisher,
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Write `PREFIX.key` (mode 0600) and `PREFIX.pub`; refuses to replace
    /// either. Returns both paths.
    /// With a passphrase, the seed is stored encrypted.
    pub fn write_pair(
        &self,
        prefix: &Path,
        passphrase: Option<&str>,
    ) -> Result<(PathBuf, PathBuf), KeyError> {
        let secret_path = with_suffix(prefix, "key");
        let public_path = with_suffix(prefix, "pub");
        let mut file = SecretFile {
            format: SECRET_FORMAT.into(),
            publisher: self.publisher.clone(),
            secret_key: None,
            encrypted_secret_key: None,
            kdf: None,
        };
        match passphrase {
            None => file.secret_key = Some(hex::encode(self.key.to_bytes())),
            Some(passphrase) => {
                use chacha20poly1305::aead::{Aead, KeyInit, Payload};
                let failed = |e: String| KeyError::Write {
                    path: secret_path.clone(),
                    source: std::io::Error::other(e),
                };
                let mut random = [0u8; 16 + 12];
                getrandom::fill(&mut random).map_err(|e| failed(e.to_string()))?;
                let (salt, nonce) = random.split_at(16);
                let kdf = Kdf {
                    algorithm: KDF_ALGORITHM.into(),
                    salt: hex::encode(salt),
                    memory_kib: KDF_MEMORY_KIB,
                    iterations: KDF_ITERATIONS,
                    parallelism: 1,
                };
                let key = derive(passphrase, &kdf).map_err(|e| failed(e.to_string()))?;
                let cipher = chacha20poly1305::ChaCha20Poly1305::new((&key).into());
                let seed = self.key.to_bytes();
                let sealed = cipher
                    .encrypt(
                        nonce.into(),
                        Payload {
                            msg: &seed,
                            aad: &aad(&self.publisher),
                        },
                    )
                    .map_err(|e| failed(e.to_string()))?;
                file.encrypted_secret_key = Some(hex::encode([nonce, &sealed].concat()));
                file.kdf = Some(kdf);
            }
        }
        let body = toml::to_string(&file).unwrap_or_default();
        let secret = format!(
            "# Airlock plugin signing key (Ed25519) of {}. Keep it secret; never copy it to the machines that run skills.\n# Public key fingerprint: {}\n{body}",
            self.publisher,
            self.public().fingerprint()
        );
        create_new(&secret_path, secret.as_bytes(), 0o600)?;
        if let Err(e) = create_new(&public_path, self.public().to_text().as_bytes(), 0o644) {
            let _ = std::fs::remove_file(&secret_path);
            return Err(e);
        }
        Ok((secret_path, public_path))
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    use std::os::unix::fs::OpenOptionsExt;
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(|source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {

    #[test]
    fn a_plugin_signature_never_stands_for_a_release_signature_nor_back() {
        let key = SecretKey::generate("both").unwrap();
        let public = key.public();
        let manifest = b"format = \"airlock-bundle-v1\"\nserial = 9\n";
        let as_plugin = key.sign(manifest);
        let as_release = key.sign_release(manifest);
        assert!(public.verifies(manifest, &as_plugin));
        assert!(public.verifies_release(manifest, &as_release));
        assert!(!public.verifies_release(manifest, &as_plugin));
        assert!(!public.verifies(manifest, &as_release));
    }

    use super::*;

    #[test]
    fn sign_and_verify_round_trip_and_any_flipped_bit_fails() {
        let secret = SecretKey::generate("acme").unwrap();
        let public = PublicKey::parse(&secret.public().to_text()).unwrap();
        assert_eq!(public, secret.public());
        assert!(is_fingerprint(&public.fingerprint()));
        let sig = secret.sign(b"name = \"x\"\n");
        assert!(public.verifies(b"name = \"x\"\n", &sig));
        assert!(!public.verifies(b"name = \"y\"\n", &sig));
        let mut bad = sig;
        bad[10] ^= 1;
        assert!(!public.verifies(b"name = \"x\"\n", &bad));
        assert!(!public.verifies(b"name = \"x\"\n", &sig[..63]));
        let other = SecretKey::generate("acme").unwrap();
        assert!(!other.public().verifies(b"name = \"x\"\n", &sig));
    }

    #[test]
    fn secret_key_file_is_private_and_exposed_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let secret = SecretKey::generate("acme").unwrap();
        let (key, public) = secret.write_pair(&dir.path().join("acme"), None).unwrap();
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(PublicKey::read(&public).unwrap(), secret.public());
        let no_passphrase = || -> Result<String, String> { panic!("not encrypted") };
        assert_eq!(
            SecretKey::read(&key, &no_passphrase).unwrap().public(),
            secret.public()
        );
        assert!(secret.write_pair(&dir.path().join("acme"), None).is_err());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SecretKey::read(&key, &no_passphrase)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("its mode is 0644, so others can read it"),
            "{err}"
        );
    }

    #[test]
    fn an_encrypted_key_opens_only_with_its_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let secret = SecretKey::generate("acme").unwrap();
        let (key, _) = secret
            .write_pair(&dir.path().join("acme"), Some("correct horse"))
            .unwrap();
        let text = std::fs::read_to_string(&key).unwrap();
        assert!(!text.contains(&hex::encode(secret.key.to_bytes())));
        let right = || Ok::<_, String>("correct horse".to_string());
        assert_eq!(
            SecretKey::read(&key, &right).unwrap().public(),
            secret.public()
        );
        let wrong = || Ok::<_, String>("battery staple".to_string());
        let err = SecretKey::read(&key, &wrong).err().unwrap().to_string();
        assert!(
            err.ends_with("wrong passphrase, or the file was modified"),
            "{err}"
        );
        // The same sealed seed under another publisher name does not open.
        std::fs::write(
            &key,
            text.replace("publisher = \"acme\"", "publisher = \"evil\""),
        )
        .unwrap();
        assert!(SecretKey::read(&key, &right).is_err());
    }

    #[test]
    fn errors_say_which_file_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let err = SecretKey::generate("Not A Name").err().unwrap();
        let name = crate::check_name(crate::NameKind::Publisher, "Not A Name").unwrap_err();
        assert!(matches!(&err, KeyError::Publisher(e) if *e == name));
        assert_eq!(err.to_string(), name.to_string());

        let secret = SecretKey::generate("acme").unwrap();
        let (key, public) = secret
            .write_pair(&dir.path().join("acme"), Some("correct horse"))
            .unwrap();
        let text = std::fs::read_to_string(&public).unwrap();
        std::fs::write(&public, text.replace(PUBLIC_FORMAT, "other-format")).unwrap();
        let err = PublicKey::read(&public).unwrap_err();
        assert!(matches!(
            &err,
            KeyError::Invalid {
                kind: "public",
                reason: InvalidKey::Format { .. },
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            format!(
                "{} is not an Airlock public key file: format is `other-format`, expected `airlock-ed25519-public-key-1`",
                public.display()
            )
        );

        // The caller's own reason for having no passphrase is kept.
        let no_terminal = || Err::<String, _>("no terminal to ask on");
        let err = SecretKey::read(&key, &no_terminal).err().unwrap();
        assert!(matches!(
            &err,
            KeyError::Invalid {
                reason: InvalidKey::NoPassphrase(_),
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            format!(
                "{} is not an Airlock secret key file: no terminal to ask on",
                key.display()
            )
        );
    }
}

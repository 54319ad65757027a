//! `chains generate-key-pair`.

use miette::Diagnostic;
use zeroize::Zeroizing;

use crate::cli::GenerateKeyPairArgs;
use crate::sign::generate::{self, KeyFiles};
use crate::sign::kms::KmsOptions;
use crate::sign::{Password, SignError, local};

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum KeyPairError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sign(#[from] SignError),
    #[error("the passwords do not match")]
    #[diagnostic(code(chains::keys::mismatch))]
    Mismatch,
}

pub fn generate_key_pair(args: &GenerateKeyPairArgs) -> Result<(), KeyPairError> {
    let files = KeyFiles::with_prefix(&args.output_key_prefix);
    if let Some(uri) = &args.kms {
        let public = generate::generate_kms(
            uri,
            &KmsOptions::from_environment(),
            &files.public,
            args.force,
        )?;
        eprintln!(
            "Created {} key {uri}; public key written to {} (keyid {})",
            public.kind(),
            files.public.display(),
            public.key_id()
        );
        return Ok(());
    }
    let password = match &args.password_file {
        Some(p) => local::read_password(&Password::File(p.clone()), "the new key")?,
        None => match std::env::var("COSIGN_PASSWORD") {
            Ok(p) => Zeroizing::new(p),
            Err(_) => {
                let first = local::read_password(&Password::FromEnvironment, "the new key")?;
                let again = rpassword::prompt_password("Enter password for the new key again: ")
                    .map(Zeroizing::new)
                    .map_err(|source| SignError::KeyIo {
                        path: "/dev/tty".into(),
                        source,
                    })?;
                if *first != *again {
                    return Err(KeyPairError::Mismatch);
                }
                first
            }
        },
    };
    let public = generate::generate_local(&files, password.as_bytes(), args.force)?;
    eprintln!(
        "Private key written to {}\nPublic key written to {} (keyid {})",
        files.private.display(),
        files.public.display(),
        public.key_id()
    );
    Ok(())
}

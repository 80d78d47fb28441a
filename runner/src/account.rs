//! The account the suite posts signals as. `--token-file` wins; else, with cluster access, the
//! runner makes upstream's suite account (ServiceAccount `e2e-gateway-suite-sa` in the controller
//! namespace, bound to the `gateway-service-client` ClusterRole) and mints a one-hour token with
//! the TokenRequest API; what it made is removed when the run ends. Without either, there is no
//! token and the banner says what that means.

use std::time::Duration;

use fixtures::credentials::{self, Provisioned, SUITE_ACCOUNT};

/// Longest the runner waits for the Kubernetes API while making or removing the account.
pub const ACCOUNT_DEADLINE: Duration = Duration::from_secs(30);

/// The token the cases send, where it came from, and what to remove at the end.
#[derive(Default)]
pub struct SuiteAccount {
    /// The Bearer token (never printed).
    pub token: Option<String>,
    /// Where the token came from, for the banner.
    pub source: String,
    made: Option<(kube::Client, Provisioned)>,
}

/// Making the suite account failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// An API call failed.
    #[error(transparent)]
    Api(#[from] credentials::CredentialsError),
    /// The API did not answer in time.
    #[error(
        "the Kubernetes API did not answer within {0:?} while making the suite's ServiceAccount token; check the cluster, or pass --token-file"
    )]
    Deadline(Duration),
}

impl std::fmt::Debug for SuiteAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuiteAccount")
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("source", &self.source)
            .field("made", &self.made.as_ref().map(|(_, made)| made))
            .finish()
    }
}

impl SuiteAccount {
    /// The account for this run: `token_file`'s token, else one minted through `kube` in
    /// `namespace`, else none.
    pub async fn resolve(
        token_file: Option<String>,
        kube: Option<&kube::Client>,
        namespace: &str,
    ) -> Result<Self, AccountError> {
        if let Some(token) = token_file {
            return Ok(Self { token: Some(token), source: "from --token-file (redacted)".into(), made: None });
        }
        let Some(client) = kube else {
            return Ok(Self {
                token: None,
                source: "none: no --token-file and no cluster access to mint one, so a gateway with auth answers 401"
                    .into(),
                made: None,
            });
        };
        let work = async {
            let made = credentials::provision(client, namespace, SUITE_ACCOUNT, true).await?;
            let token = credentials::mint_token(client, namespace, SUITE_ACCOUNT).await;
            Ok::<_, credentials::CredentialsError>((made, token))
        };
        let (made, token) = tokio::time::timeout(ACCOUNT_DEADLINE, work)
            .await
            .map_err(|_| AccountError::Deadline(ACCOUNT_DEADLINE))??;
        let account = Self {
            token: None,
            source: format!(
                "minted for ServiceAccount {namespace}/{SUITE_ACCOUNT} with the TokenRequest API, valid {}s (redacted; \
                 what the runner made is removed at the end)",
                credentials::TOKEN_SECONDS
            ),
            made: Some((client.clone(), made)),
        };
        match token {
            Ok(token) => Ok(Self { token: Some(token), ..account }),
            Err(e) => {
                // Leave nothing behind when the token cannot be had.
                account.release().await;
                Err(e.into())
            }
        }
    }

    /// Removes what the runner made for the account (bounded); returns problems as text.
    pub async fn release(self) -> Vec<String> {
        let Some((client, made)) = self.made else { return Vec::new() };
        match tokio::time::timeout(ACCOUNT_DEADLINE, credentials::remove(&client, &made)).await {
            Ok(problems) => problems,
            Err(_) => vec![format!("removal did not finish within {ACCOUNT_DEADLINE:?}")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn token_file_wins_cluster_mints_and_removal_cleans_up() {
        fixtures::install_crypto_provider();
        let client = fixtures::cluster::in_memory().await.unwrap_or_else(|e| panic!("{e}"));
        let given = SuiteAccount::resolve(Some("given".into()), Some(&client), "kubernaut-system").await;
        let given = given.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((given.token.as_deref(), given.made.is_none()), (Some("given"), true));

        let minted = SuiteAccount::resolve(None, Some(&client), "kubernaut-system").await;
        let minted = minted.unwrap_or_else(|e| panic!("{e}"));
        assert!(minted.token.as_deref().is_some_and(|t| !t.is_empty()), "{minted:?}");
        assert!(minted.source.contains("e2e-gateway-suite-sa"));
        assert!(minted.release().await.is_empty());
        let accounts: kube::Api<k8s_openapi::api::core::v1::ServiceAccount> =
            kube::Api::namespaced(client.clone(), "kubernaut-system");
        assert!(accounts.get_opt(SUITE_ACCOUNT).await.ok().flatten().is_none(), "removed at the end");

        let none = SuiteAccount::resolve(None, None, "kubernaut-system").await.unwrap_or_else(|e| panic!("{e}"));
        assert!(none.token.is_none() && none.source.contains("401"));
    }
}

//! Validation and errors (contract §3).

use reqwest::Method;

use super::support::expect_problem;
use crate::{Ctx, Failure, PROMETHEUS_PATH, case};

async fn malformed_json_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    let request =
        ctx.request(Method::POST, PROMETHEUS_PATH).header("Content-Type", "application/json").body("{\"alerts\": [");
    let answer = ctx.send(request).await?;
    let body = expect_problem(&answer, 400, "validation-error")?;
    Failure::ensure_eq("instance", body["instance"].as_str(), Some(PROMETHEUS_PATH))
}
case!(malformed_json_is_400_problem, area = "validation", labels = ["validation"]);

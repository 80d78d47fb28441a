//! Health and readiness (contract §2).

use crate::{Ctx, Failure, case};

async fn health_answers_200_json(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &ctx.config().health_url)).await?;
    answer.expect_status(200)?;
    let body = answer.json()?;
    Failure::ensure_eq("health status field", body["status"].as_str(), Some("healthy"))
}
case!(health_answers_200_json, area = "health", labels = ["health"]);

//! In-process measurements: pool overhead, makespan efficiency, memory, double throughput.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use runner::events::Event;
use runner::plan::{Order, TestPlan, Timings};
use runner::pool::{self, PoolConfig, Stop};
use suites::{Case, Ctx, CtxConfig, Failure};

type BoxFut = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>;

fn noop(_: Ctx) -> BoxFut {
    Box::pin(async { Ok(()) })
}

/// Each synthetic case sleeps for the duration encoded in its name (`...-<ms>ms`).
fn sleeper(ctx: Ctx) -> BoxFut {
    let ms = ctx.case_name().rsplit('-').next().and_then(|s| s.trim_end_matches("ms").parse().ok()).unwrap_or(1);
    Box::pin(async move {
        ctx.log(format!("sleeping {ms} ms"));
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    })
}

fn leak_case(name: String, run: suites::CaseFn) -> &'static Case {
    Box::leak(Box::new(Case::new(Box::leak(name.into_boxed_str()), "bench", run)))
}

fn ctx_config() -> Arc<CtxConfig> {
    Arc::new(CtxConfig::for_gateway(reqwest::Client::new(), "http://127.0.0.1:9"))
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    }
}

/// Runs `plan` on `jobs` workers with a consumer that keeps every result and builds the JUnit
/// report at the end, as the real reporter does; returns the wall time.
async fn run_plan(plan: &TestPlan, jobs: usize) -> Duration {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let consumer = tokio::spawn(async move {
        let mut results = Vec::new();
        while let Some(event) = rx.recv().await {
            if let Event::CaseFinished(r) = event {
                results.push(r);
            }
        }
        runner::report::junit::build(&results, &runner::report::junit::RunInfo::default())
    });
    let config = PoolConfig { jobs, default_timeout: Duration::from_secs(60), max_fail: None, retries: 0 };
    let started = Instant::now();
    pool::run(plan, &config, ctx_config(), &tx, &Stop::default()).await;
    drop(tx);
    let _ = consumer.await;
    started.elapsed()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// 1. 10,000 no-op cases at default workers.
pub fn overhead(reps: usize) -> String {
    let cases: Vec<&'static Case> = (0..10_000).map(|i| leak_case(format!("noop::case_{i:05}"), noop)).collect();
    let plan = TestPlan { parallel: cases, serial: vec![], registered: 10_000 };
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);
    let rt = runtime();
    let wall = median((0..reps).map(|_| rt.block_on(run_plan(&plan, jobs))).collect());
    let per_case = wall.as_secs_f64() * 1e6 / 10_000.0;
    format!(
        "## 1. Runner overhead\n\n10,000 no-op cases, {jobs} workers (all CPUs), events + result collection + JUnit build: \
         **{:.1} ms** wall, **{per_case:.1} µs per case** (aim ≤ 20 µs).\n\n",
        wall.as_secs_f64() * 1e3
    )
}

/// 2. 48 cases with a skewed mix of durations at several worker counts, longest-first vs name order.
pub fn makespan() -> String {
    // 3 long, 5 medium, 40 short; the long ones sort last by name, the worst case for name order.
    let mut specs: Vec<(String, u64)> = Vec::new();
    specs.extend((0..3).map(|i| (format!("z_long_{i}-400ms"), 400)));
    specs.extend((0..5).map(|i| (format!("m_medium_{i}-150ms"), 150)));
    specs.extend((0..40).map(|i| (format!("a_short_{i:02}-20ms"), 20)));
    let total: u64 = specs.iter().map(|(_, ms)| ms).sum();
    let longest = 400;
    let timings: Timings = specs.iter().map(|(n, ms)| (n.clone(), Duration::from_millis(*ms))).collect();
    let cases: Vec<&'static Case> = specs.iter().map(|(n, _)| leak_case(n.clone(), sleeper)).collect();
    let rt = runtime();
    let mut text = String::from(
        "## 2. Makespan efficiency\n\n48 cases (3 × 400 ms, 5 × 150 ms, 40 × 20 ms; 2.75 s in all). Efficiency = wall ÷ \
         max(longest case, total ÷ workers); 1.00 is perfect (aim ≤ 1.05 longest-first). One run each.\n\n\
         | workers | lower bound | longest-first | efficiency | name order | efficiency |\n|---|---|---|---|---|---|\n",
    );
    for jobs in [1usize, 2, 4, 8, 12, 64] {
        let bound = Duration::from_millis(longest.max(total / jobs as u64));
        let mut walls = Vec::new();
        for order in [Order::LongestFirst, Order::Name] {
            let mut parallel = cases.clone();
            runner::plan::order_cases(&mut parallel, order, &timings);
            let plan = TestPlan { parallel, serial: vec![], registered: cases.len() };
            walls.push(rt.block_on(run_plan(&plan, jobs)));
        }
        let eff = |w: Duration| w.as_secs_f64() / bound.as_secs_f64();
        text.push_str(&format!(
            "| {jobs} | {:.0} ms | {:.0} ms | {:.3} | {:.0} ms | {:.3} |\n",
            bound.as_secs_f64() * 1e3,
            walls[0].as_secs_f64() * 1e3,
            eff(walls[0]),
            walls[1].as_secs_f64() * 1e3,
            eff(walls[1])
        ));
    }
    text.push('\n');
    text
}

/// 4 (child process). Peak RSS with `n` cases in flight.
pub fn memory_child(n: usize) {
    let cases: Vec<&'static Case> = (0..n).map(|i| leak_case(format!("mem::case_{i:04}-300ms"), sleeper)).collect();
    let plan = TestPlan { parallel: cases, serial: vec![], registered: n };
    runtime().block_on(run_plan(&plan, n));
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: 0 kB");
    println!("{}", hwm.split_whitespace().nth(1).unwrap_or("0"));
}

/// Pods each throughput client sends alerts about, in turn: the first alert about each is a new
/// RemediationRequest (201), later ones are its duplicates (202).
const PODS_PER_CLIENT: usize = 16;
/// Throughput clients.
const CLIENTS: usize = 64;

/// Section 5: accepted signals per second against the double with 64 concurrent clients, the
/// median of `reps` runs with the range (a fresh double each run).
pub fn throughput(duration: Duration, reps: usize) -> String {
    let rates: Vec<(f64, u64)> = (0..reps)
        .map(|_| {
            let (requests, errors, wall) = throughput_once(duration);
            (requests as f64 / wall.as_secs_f64(), errors)
        })
        .collect();
    let mut sorted: Vec<f64> = rates.iter().map(|r| r.0).collect();
    sorted.sort_by(f64::total_cmp);
    let errors: u64 = rates.iter().map(|r| r.1).sum();
    format!(
        "## 5. Double throughput\n\n{CLIENTS} concurrent clients with the suite's minted token, each posting alerts about \
         its own {PODS_PER_CLIENT} Pods in turn (the first about a Pod creates a RemediationRequest in the in-memory \
         cluster, 201; the rest are its duplicates, 202), {:.0} s per run, client and double on the same 2 cores: \
         **{:.0} signals/s** (median of {reps}; range {:.0}–{:.0}; {errors} answers neither 201 nor 202). Runs on this \
         shared 2-vCPU machine vary by ±30%.\n\n",
        duration.as_secs_f64(),
        sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN),
        sorted.first().copied().unwrap_or(f64::NAN),
        sorted.last().copied().unwrap_or(f64::NAN),
    )
}

/// The suite's token and a managed namespace holding every client's Pods, in `double`'s cluster.
async fn throughput_world(double: &fixtures::double::RunningDouble) -> String {
    use fixtures::credentials::{SUITE_ACCOUNT, mint_token, provision};
    use k8s_openapi::api::core::v1::{Namespace, Pod};
    use kube::api::{Api, PostParams};
    let controller = fixtures::crd::CONTROLLER_NAMESPACE;
    let kube = double.kube.clone();
    let made = async {
        provision(&kube, controller, SUITE_ACCOUNT, true).await.map_err(|e| e.to_string())?;
        let token = mint_token(&kube, controller, SUITE_ACCOUNT).await.map_err(|e| e.to_string())?;
        let namespaces: Api<Namespace> = Api::all(kube.clone());
        namespaces
            .create(&PostParams::default(), &fixtures::world::managed_namespace("bench"))
            .await
            .map_err(|e| e.to_string())?;
        let pods: Api<Pod> = Api::namespaced(kube.clone(), "bench");
        for client in 0..CLIENTS {
            for k in 0..PODS_PER_CLIENT {
                let pod = fixtures::world::pod("bench", &format!("pod-{client}-{k}"));
                pods.create(&PostParams::default(), &pod).await.map_err(|e| e.to_string())?;
            }
        }
        Ok::<_, String>(token)
    };
    made.await.unwrap_or_else(|e| panic!("throughput world: {e}"))
}

fn throughput_once(duration: Duration) -> (u64, u64, Duration) {
    let rt = runtime();
    rt.block_on(async move {
        let double = match fixtures::double::start(Default::default()).await {
            Ok(d) => d,
            Err(e) => panic!("double: {e}"),
        };
        let token = throughput_world(&double).await;
        let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(CLIENTS).build().unwrap_or_default();
        let done = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let end = Instant::now() + duration;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..CLIENTS {
            let (http, url, done, failed) = (http.clone(), double.url.clone(), done.clone(), failed.clone());
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = 0usize;
                while Instant::now() < end {
                    let pod = format!("pod-{client}-{}", i % PODS_PER_CLIENT);
                    i += 1;
                    let alert = fixtures::payloads::Alert::firing("BenchAlert").namespace("bench").pod(&pod);
                    let body = fixtures::payloads::Webhook::with_alert(alert).to_bytes();
                    let answer = http
                        .post(format!("{url}/api/v1/signals/prometheus"))
                        .bearer_auth(&token)
                        .header("Content-Type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    match answer {
                        Ok(a) if matches!(a.status().as_u16(), 201 | 202) => done.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        let wall = started.elapsed();
        double.shutdown().await;
        (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed), wall)
    })
}

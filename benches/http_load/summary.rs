//! What a run prints: the scenario in one line, successes and errors apart,
//! latency quantiles.

use std::time::Duration;

use hdrhistogram::Histogram;
use hyper::StatusCode;

use crate::client::Report;
use crate::{search, Args, Scenario, HOT_SKU, RECOMMEND_LINES, SPREAD_SKUS};

/// One line naming the scenario and what it sends.
fn describe(args: &Args) -> String {
    match args.scenario {
        Scenario::Hot => format!("hot: POST /v1/inventory/{HOT_SKU}/reservations"),
        Scenario::Spread => format!("spread: POST /v1/inventory/{{sku}}/reservations over {SPREAD_SKUS} SKUs"),
        Scenario::Search => match args.url {
            Some(_) => format!("search: GET /v1/products, {} queries", search::QUERIES),
            None => format!(
                "search: GET /v1/products, {} queries over {} seeded products",
                search::QUERIES,
                args.products
            ),
        },
        Scenario::PageHome => "page-home: GET /".to_string(),
        Scenario::PageCategory => "page-category: GET /c/{slug} over the seed's categories".to_string(),
        Scenario::PageSearch => format!("page-search: GET /search, {} queries", search::QUERIES),
        Scenario::PageProduct => "page-product: GET /p/{id} over the seeded products".to_string(),
        Scenario::ConsoleOrders => format!(
            "console-orders: GET /admin/orders (pages, status, e-mail, id) over {} orders",
            args.orders
        ),
        Scenario::ConsoleOrder => format!("console-order: GET /admin/orders/{{id}} over {} orders", args.orders),
        Scenario::ConsoleProducts => "console-products: GET /admin/products (pages and searches)".to_string(),
        Scenario::ConsoleActors => "console-actors: GET /admin/actors (all, a kind, an id)".to_string(),
        Scenario::Recommendations => format!(
            "recommendations: GET /v1/products/{{id}}/recommendations?limit=8 after {} orders of {} lines over {} products",
            args.orders,
            RECOMMEND_LINES,
            args.products
        ),
    }
}

/// A latency quantile of `latencies` (microseconds), in milliseconds.
fn percentile_ms(latencies: &Histogram<u64>, quantile: f64) -> f64 {
    latencies.value_at_quantile(quantile) as f64 / 1000.0
}

/// Prints what the run measured: successes and errors apart, by status, then
/// latency quantiles of the successes. Answers the number of errors.
pub(crate) fn print_summary(args: &Args, report: &Report, measured: Duration, success: StatusCode) -> u64 {
    let answered: u64 = report.statuses.values().sum();
    let succeeded = report.succeeded;
    let errors = answered - succeeded + report.transport_errors;
    let seconds = measured.as_secs_f64();
    let latencies = &report.latencies;
    let code = success.as_u16();
    println!("scenario      {}", describe(args));
    println!("connections   {}", args.connections);
    match args.rate {
        Some(rate) => println!(
            "load          open loop at {rate:.0} req/s (achieved {:.0}/s; latency from each request's due time while its connection waited on an answer, else from the timer's wake-up)",
            (answered + report.transport_errors) as f64 / seconds
        ),
        None => println!("load          closed loop"),
    }
    println!("duration      {seconds:.2} s (after {} s warm-up)", args.warmup);
    println!("requests      {}", answered + report.transport_errors);
    println!(
        "succeeded     {succeeded} ({code}): {:.0}/s",
        succeeded as f64 / seconds
    );
    println!("errors        {errors}: {:.0}/s", errors as f64 / seconds);
    for (status, count) in report.statuses.iter().filter(|(status, _)| **status != code) {
        println!("  status {status}  {count}");
    }
    if report.transport_errors > 0 {
        println!("  no answer   {}", report.transport_errors);
    }
    println!(
        "latency ms    p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  ({code} answers)",
        percentile_ms(latencies, 0.50),
        percentile_ms(latencies, 0.90),
        percentile_ms(latencies, 0.99),
        percentile_ms(latencies, 0.999),
        latencies.max() as f64 / 1000.0,
    );
    errors
}

//! A router as a Lambda function behind API Gateway: the invocation's request id and the caller's
//! IAM identity become request extensions, which the routes read the same way as locally.

use axum::extract::Request;
use axum::Router;
use lambda_http::request::RequestContext;

use super::{Caller, RequestId};

pub async fn run(router: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(with_lambda_context(router)).await
}

/// The router, reading the request id and caller from what lambda_http attached to each request.
pub fn with_lambda_context(router: Router) -> Router {
    router.layer(axum::middleware::map_request(with_context))
}

async fn with_context(mut request: Request) -> Request {
    let extensions = request.extensions();
    let request_id = extensions
        .get::<lambda_http::Context>()
        .map(|context| RequestId(context.request_id.clone()));
    let caller = extensions
        .get::<RequestContext>()
        .and_then(RequestContext::authorizer)
        .and_then(|authorizer| authorizer.iam.as_ref())
        .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone()))
        .map(|who| Caller(format!("iam:{who}")));
    if let Some(id) = request_id {
        request.extensions_mut().insert(id);
    }
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
    }
    request
}

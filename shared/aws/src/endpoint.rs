//! Which endpoint each AWS client calls. The template declares `AWS_ENDPOINT_URL` for every
//! function, empty on AWS, so that `sam local` can point the functions at moto or LocalStack; the
//! SDK takes an empty value for an endpoint and panics on the first call ("URL was unset"). So
//! the clients are given the endpoint decided here, in the SDK's order: the service's own variable
//! (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_EVENTBRIDGE`), then
//! `AWS_ENDPOINT_URL`, a blank value counting as unset; none means AWS's own endpoint.

/// The variable that points every client at another endpoint.
pub const ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";

/// The endpoint for the service whose variable suffix is `service` (`S3`, `DYNAMODB`,
/// `EVENTBRIDGE`), read through `lookup`.
pub fn endpoint_url(service: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| lookup(name).filter(|url| !url.trim().is_empty());
    set(&format!("{ENDPOINT_URL}_{service}")).or_else(|| set(ENDPOINT_URL))
}

/// [`endpoint_url`] from the process environment.
pub fn from_process(service: &str) -> Option<String> {
    endpoint_url(service, |name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn a_blank_endpoint_is_no_endpoint_and_the_services_own_comes_first() {
        assert_eq!(endpoint_url("S3", lookup(&[])), None);
        assert_eq!(
            endpoint_url("S3", lookup(&[("AWS_ENDPOINT_URL", "")])),
            None
        );
        assert_eq!(
            endpoint_url("S3", lookup(&[("AWS_ENDPOINT_URL", "  ")])),
            None
        );
        assert_eq!(
            endpoint_url(
                "S3",
                lookup(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")])
            ),
            Some("http://127.0.0.1:5000".into())
        );
        let both = lookup(&[
            ("AWS_ENDPOINT_URL", ""),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
        ]);
        assert_eq!(
            endpoint_url("DYNAMODB", &both),
            Some("http://127.0.0.1:8000".into())
        );
        assert_eq!(endpoint_url("S3", &both), None);
    }
}

//! The environment → [`ApiSettings`]: key, base URL, organisation and project, read the
//! way OpenAI's clients read them and checked before any call is made (never trimmed).

use std::ffi::OsString;
use std::fmt;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Url;

use super::retry::{RetrySettings, NO_RETRY_DELAY_ENV};
use super::ApiError;

/// The default API base, as OpenAI's own clients have it.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

const KEY_VAR: &str = "OPENAI_API_KEY";
const BASE_URL_VAR: &str = "OPENAI_BASE_URL";
const ORG_VAR: &str = "OPENAI_ORG_ID";
const PROJECT_VAR: &str = "OPENAI_PROJECT_ID";

/// The API key: a secret that never prints (no `Display`; `Debug` shows `[redacted]`).
#[derive(Clone)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where and as whom to call the API, checked: every value is a valid header value and
/// the base URL an http(s) URL.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    pub(crate) api_key: ApiKey,
    pub(crate) base_url: Url,
    pub(crate) organization: Option<String>,
    pub(crate) project: Option<String>,
    pub(crate) retry: RetrySettings,
}

impl ApiSettings {
    /// From `OPENAI_API_KEY`, `OPENAI_BASE_URL` (default [`DEFAULT_BASE_URL`]),
    /// `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID` and [`NO_RETRY_DELAY_ENV`]. An empty variable
    /// counts as unset; a value with surrounding whitespace or control characters is an
    /// error naming the variable.
    pub fn from_env() -> Result<ApiSettings, ApiError> {
        ApiSettings::from_vars(|name| std::env::var_os(name))
    }

    /// As [`ApiSettings::from_env`], from any lookup (tests).
    pub(crate) fn from_vars(
        lookup: impl Fn(&str) -> Option<OsString>,
    ) -> Result<ApiSettings, ApiError> {
        let var = |name: &'static str| -> Result<Option<String>, ApiError> {
            match lookup(name) {
                None => Ok(None),
                Some(value) if value.is_empty() => Ok(None),
                Some(value) => value
                    .into_string()
                    .map(Some)
                    .map_err(|_| invalid(name, "is not valid UTF-8".into())),
            }
        };
        let api_key = var(KEY_VAR)?.ok_or(ApiError::MissingKey)?;
        check_header_value(KEY_VAR, &api_key)?;
        let organization = var(ORG_VAR)?;
        let project = var(PROJECT_VAR)?;
        for (name, value) in [(ORG_VAR, &organization), (PROJECT_VAR, &project)] {
            if let Some(value) = value {
                check_header_value(name, value)?;
            }
        }
        let base_url = parse_base_url(var(BASE_URL_VAR)?.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let no_delay = var(NO_RETRY_DELAY_ENV)?.is_some_and(|v| v == "1");
        Ok(ApiSettings {
            api_key: ApiKey(api_key),
            base_url,
            organization,
            project,
            retry: RetrySettings::new(no_delay),
        })
    }

    /// The API base, without a trailing `/`.
    #[cfg(test)]
    pub fn base_url(&self) -> &str {
        self.base_url.as_str().trim_end_matches('/')
    }

    /// The headers every call carries, as OpenAI's clients send them: `Authorization:
    /// Bearer` (marked sensitive), `OpenAI-Organization` and `OpenAI-Project` when set.
    pub(crate) fn headers(&self) -> HeaderMap {
        let value = |text: &str| {
            HeaderValue::from_str(text).expect("checked by `check_header_value` when read")
        };
        let mut headers = HeaderMap::new();
        let mut authorization = value(&format!("Bearer {}", self.api_key.expose()));
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        if let Some(organization) = &self.organization {
            headers.insert("openai-organization", value(organization));
        }
        if let Some(project) = &self.project {
            headers.insert("openai-project", value(project));
        }
        headers
    }
}

fn invalid(variable: &'static str, problem: String) -> ApiError {
    let hint = match variable {
        BASE_URL_VAR => "set it to the API base, e.g. `https://api.openai.com/v1`, or unset it",
        _ => "set it again without the stray characters (`echo` or `$(cat file)` can add a newline); safesft does not trim it for you",
    };
    ApiError::InvalidSetting {
        variable,
        problem,
        hint,
    }
}

/// What a whitespace character is called in a message.
fn name_of(c: char) -> String {
    match c {
        '\n' => "a newline".into(),
        '\r' => "a carriage return".into(),
        '\t' => "a tab".into(),
        ' ' => "a space".into(),
        other => format!("whitespace (U+{:04X})", u32::from(other)),
    }
}

/// The value can go into an HTTP header as it is. The message never shows the value
/// (it may be the key).
fn check_header_value(variable: &'static str, value: &str) -> Result<(), ApiError> {
    if let Some(c) = value.chars().next().filter(|c| c.is_whitespace()) {
        return Err(invalid(variable, format!("starts with {}", name_of(c))));
    }
    if let Some(c) = value.chars().last().filter(|c| c.is_whitespace()) {
        return Err(invalid(variable, format!("ends with {}", name_of(c))));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(invalid(
            variable,
            format!(
                "holds a control character (U+{:04X}) that cannot go in an HTTP header",
                u32::from(c)
            ),
        ));
    }
    if !value.is_ascii() || HeaderValue::from_str(value).is_err() {
        return Err(invalid(
            variable,
            "holds a character that cannot go in an HTTP header (only ASCII can)".into(),
        ));
    }
    Ok(())
}

/// An http(s) URL; a trailing `/` is dropped so paths join as `{base}/files`.
fn parse_base_url(value: &str) -> Result<Url, ApiError> {
    let problem = |why: &str| {
        invalid(
            BASE_URL_VAR,
            format!("is not an http(s) URL: `{value}` ({why})"),
        )
    };
    if value.trim() != value {
        return Err(problem("surrounding whitespace"));
    }
    let mut url = Url::parse(value).map_err(|error| problem(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(problem(&format!("the scheme is `{}`", url.scheme())));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(problem("a query or fragment cannot be a base"));
    }
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<ApiSettings, ApiError> {
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), OsString::from(v)))
            .collect();
        ApiSettings::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    const KEY: &str = "sk-secret-123";

    #[test]
    fn settings_never_show_the_key() {
        let settings = settings(&[(KEY_VAR, KEY)]).unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        let headers = format!("{:?}", settings.headers());
        assert!(!headers.contains(KEY), "{headers}");
    }

    #[test]
    fn defaults_and_headers_as_openai_clients_send_them() {
        let plain = settings(&[(KEY_VAR, KEY)]).unwrap();
        assert_eq!(plain.base_url(), DEFAULT_BASE_URL);
        let headers = plain.headers();
        assert_eq!(headers[AUTHORIZATION], format!("Bearer {KEY}").as_str());
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert!(!headers.contains_key("openai-organization"));
        assert!(!headers.contains_key("openai-project"));
        assert!(!plain.retry.no_delay);

        let full = settings(&[
            (KEY_VAR, KEY),
            (ORG_VAR, "org-1"),
            (PROJECT_VAR, "proj_1"),
            (BASE_URL_VAR, "http://127.0.0.1:9/v1/"),
            (NO_RETRY_DELAY_ENV, "1"),
        ])
        .unwrap();
        assert_eq!(full.base_url(), "http://127.0.0.1:9/v1");
        let headers = full.headers();
        assert_eq!(headers["openai-organization"], "org-1");
        assert_eq!(headers["openai-project"], "proj_1");
        assert!(full.retry.no_delay);

        let empty = settings(&[(KEY_VAR, KEY), (ORG_VAR, ""), (BASE_URL_VAR, "")]).unwrap();
        assert!(empty.organization.is_none(), "empty counts as unset");
        assert_eq!(empty.base_url(), DEFAULT_BASE_URL);
    }

    #[test]
    fn a_missing_key_is_the_missing_key_error() {
        assert!(matches!(settings(&[]), Err(ApiError::MissingKey)));
        assert!(matches!(
            settings(&[(KEY_VAR, "")]),
            Err(ApiError::MissingKey)
        ));
    }

    #[test]
    fn stray_whitespace_and_control_characters_are_errors_naming_the_variable() {
        let cases = [
            (ORG_VAR, "org-x\n", "`OPENAI_ORG_ID` ends with a newline"),
            (
                PROJECT_VAR,
                " proj",
                "`OPENAI_PROJECT_ID` starts with a space",
            ),
            (PROJECT_VAR, "proj\r", "ends with a carriage return"),
            (ORG_VAR, "org\u{7}x", "control character (U+0007)"),
            (ORG_VAR, "orgé", "only ASCII"),
        ];
        for (variable, value, expected) in cases {
            let error = settings(&[(KEY_VAR, KEY), (variable, value)]).unwrap_err();
            let text = error.to_string();
            assert!(
                matches!(&error, ApiError::InvalidSetting { variable: v, .. } if *v == variable),
                "{text}"
            );
            assert!(text.contains(expected), "{text}");
            assert!(text.contains("\nhint: "), "{text}");
        }
    }

    #[test]
    fn a_bad_key_is_named_but_never_shown() {
        for key in ["sk-abc\n", "\tsk-abc", "sk-a\u{0}bc", "sk-ab€c"] {
            let text = settings(&[(KEY_VAR, key)]).unwrap_err().to_string();
            assert!(text.starts_with("`OPENAI_API_KEY` "), "{text}");
            assert!(!text.contains("sk-a"), "{text}");
        }
    }

    #[test]
    fn the_base_url_must_be_http_or_https() {
        for (value, why) in [
            ("api.openai.com/v1", "relative URL without a base"),
            ("ftp://example.com/v1", "the scheme is `ftp`"),
            ("http://example.com/v1 ", "surrounding whitespace"),
            ("https://example.com/v1?x=1", "query or fragment"),
        ] {
            let error = settings(&[(KEY_VAR, KEY), (BASE_URL_VAR, value)]).unwrap_err();
            let text = error.to_string();
            assert!(
                text.starts_with(&format!(
                    "`OPENAI_BASE_URL` is not an http(s) URL: `{value}`"
                )),
                "{text}"
            );
            assert!(text.contains(why), "{text}");
        }
        let https = settings(&[
            (KEY_VAR, KEY),
            (BASE_URL_VAR, "https://proxy.example/openai/v1"),
        ])
        .unwrap();
        assert_eq!(https.base_url(), "https://proxy.example/openai/v1");
    }
}

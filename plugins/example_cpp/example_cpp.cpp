// ARCHIVE_CPP: the example retirement driver in C++ (C++17). It tells an in-house archive to
// forget a learner: POST {base_url}/learners/{user.id}/forget with a bearer token and the JSON
// body {"retired_username": "..."}, through the host's HTTP service.
//
// Config (section "archive_cpp", or the entry-point name in lower case):
//   archive_cpp:
//     base_url: https://archive.example.org/api    # required; no trailing slash is added
//     bearer_token: ${ARCHIVE_TOKEN}               # required
//
// Method forget_learner (with a preview): 2xx -> OK; 404 -> NOT_FOUND; 5xx or no answer ->
// RETRYABLE; other statuses -> FAILED. What C++ needs, shown here: RD_EXPORT (it includes
// extern "C", so the const descriptor is exported), noexcept entry points that never let an
// exception reach the host, and request structs from rd_http_request_new().
#include <cctype>
#include <cstdio>
#include <new>
#include <string>

#include "retirectl/driver.h"

namespace {

struct Archive {
    const rd_host *host;
    std::string base_url;
    std::string token;
    std::string auth_header; // "Authorization: Bearer <token>"
};

// The config section of this instance: the entry-point name in lower case.
std::string section_of(const rd_host *host)
{
    std::string s = host->driver_name ? host->driver_name : "archive_cpp";
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void *archive_get_instance(const cJSON *config, const rd_host *host, char *err, size_t err_len) noexcept
{
    (void)config;
    const std::string sec = section_of(host);
    const char *base = host->config_string(host, (sec + ".base_url").c_str());
    const char *token = host->config_string(host, (sec + ".bearer_token").c_str());
    if (!base || !*base || !token || !*token) {
        std::snprintf(err, err_len, "%s.base_url and %s.bearer_token are required; add them to the config",
                      sec.c_str(), sec.c_str());
        return nullptr;
    }
    try {
        Archive *a = new Archive{host, base, token, std::string("Authorization: Bearer ") + token};
        return a;
    } catch (...) {
        std::snprintf(err, err_len, "out of memory");
        return nullptr;
    }
}

void archive_destroy(void *inst) noexcept
{
    delete static_cast<Archive *>(inst);
}

// The URL and body for learner, or false with the reason in call's message.
bool request_of(const Archive *a, const cJSON *learner, rd_call *call, std::string &url, std::string &body)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(learner, "user"), "id");
    const cJSON *retired = cJSON_GetObjectItemCaseSensitive(learner, "retired_username");
    if (!cJSON_IsNumber(id) || !cJSON_IsString(retired)) {
        rd_call_message(call, "%s: the learner has no user.id or retired_username", a->host->driver_name);
        return false;
    }
    char path[64];
    std::snprintf(path, sizeof path, "learners/%.0f/forget", id->valuedouble);
    char *u = a->host->url_append(a->host, a->base_url.c_str(), path);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "retired_username", retired->valuestring);
    char *b = a->host->json_dumps(a->host, doc, 0);
    cJSON_Delete(doc);
    url = u ? u : "";
    body = b ? b : "";
    a->host->free(a->host, u);
    a->host->free(a->host, b);
    return !url.empty() && !body.empty();
}

rd_status archive_forget(void *inst, const cJSON *learner, rd_call *call) noexcept
{
    const Archive *a = static_cast<const Archive *>(inst);
    try {
        std::string url, body;
        if (!request_of(a, learner, call, url, body)) return RD_FAILED;
        const char *headers[] = {"Content-Type: application/json", a->auth_header.c_str(), nullptr};
        const char *secrets[] = {a->token.c_str(), nullptr};
        rd_http_request req = rd_http_request_new("POST", url.c_str());
        req.headers = headers;
        req.body = body.c_str();
        req.retry = RD_RETRY_UPSTREAM;
        req.secret_values = secrets;
        rd_http_response resp = rd_http_response_new();
        rd_status st;
        if (a->host->http(a->host, &req, &resp) != 0) {
            rd_call_message(call, "%s: no answer from %s: %s", a->host->driver_name, url.c_str(), resp.error);
            st = RD_RETRYABLE;
        } else if (resp.status >= 200 && resp.status < 300) {
            rd_call_message(call, "%s: POST %s answered %ld", a->host->driver_name, url.c_str(), resp.status);
            st = RD_OK;
        } else if (resp.status == 404) {
            rd_call_message(call, "%s: the archive has no such learner (404): nothing to forget", a->host->driver_name);
            st = RD_NOT_FOUND;
        } else {
            rd_call_message(call, "%s: POST %s answered %ld", a->host->driver_name, url.c_str(), resp.status);
            st = resp.status >= 500 ? RD_RETRYABLE : RD_FAILED;
        }
        a->host->http_free(a->host, &resp);
        return st;
    } catch (...) {
        rd_call_message(call, "%s: out of memory", a->host->driver_name);
        return RD_RETRYABLE;
    }
}

rd_status archive_forget_preview(void *inst, const cJSON *learner, rd_call *call) noexcept
{
    const Archive *a = static_cast<const Archive *>(inst);
    try {
        std::string url, body;
        if (!request_of(a, learner, call, url, body)) return RD_FAILED;
        const char *headers[] = {"Content-Type: application/json", "Authorization: Bearer ********", nullptr};
        rd_call_describe(call, "POST", url.c_str(), headers, body.c_str());
        return RD_OK;
    } catch (...) {
        return RD_RETRYABLE;
    }
}

const rd_method archive_methods[] = {
    RD_METHOD("forget_learner", archive_forget, archive_forget_preview),
    RD_METHODS_END,
};

} // namespace

// The copy of the C example's line, unchanged: RD_EXPORT gives it C linkage in C++.
RD_EXPORT const rd_driver retirectl_driver_archive_cpp =
    RD_DRIVER_INIT("ARCHIVE_CPP", "1.0.0", "example C++ driver: asks an archive to forget a learner",
                   archive_get_instance, archive_destroy, archive_methods);

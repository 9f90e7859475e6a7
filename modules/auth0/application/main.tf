locals {
  public_client = contains(["spa", "native"], var.app_type)

  grant_types = {
    spa             = ["authorization_code", "refresh_token"]
    native          = ["authorization_code", "refresh_token"]
    regular_web     = ["authorization_code", "refresh_token"]
    non_interactive = ["client_credentials"]
  }

  # Client metadata: at most 10 keys, values at most 255 characters.
  metadata = {
    for k, v in merge({ "asgard:module" = "auth0/application" }, var.tags) :
    substr(k, 0, 255) => substr(v, 0, 255)
    if trimspace(v) != ""
  }
}

resource "auth0_client" "this" {
  name                = var.name
  description         = "Managed by Asgard${lookup(var.tags, "asgard:project", "") == "" ? "" : " for project ${var.tags["asgard:project"]}"}"
  app_type            = var.app_type
  is_first_party      = true
  oidc_conformant     = true
  grant_types         = local.grant_types[var.app_type]
  callbacks           = var.app_type == "non_interactive" ? [] : var.callbacks
  web_origins         = var.app_type == "non_interactive" ? [] : var.web_origins
  allowed_logout_urls = var.app_type == "non_interactive" ? [] : var.allowed_logout_urls
  client_metadata     = { for k in slice(sort(keys(local.metadata)), 0, min(10, length(local.metadata))) : k => local.metadata[k] }

  jwt_configuration {
    alg = "RS256"
  }
}

# Since provider v1 the secret and the token endpoint authentication method
# live on auth0_client_credentials. Public clients (spa, native) have no secret.
resource "auth0_client_credentials" "this" {
  client_id             = auth0_client.this.id
  authentication_method = local.public_client ? "none" : "client_secret_post"
}

variable "name" {
  description = "Resource name chosen by the requester (Asgard validates ^[a-z][a-z0-9-]{1,40}$); used as the application name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must match ^[a-z][a-z0-9-]{1,40}$."
  }
}

variable "tags" {
  description = "Governance tags written by Asgard (asgard:project, asgard:owner, asgard:cost-center, asgard:classification); stored as client metadata."
  type        = map(string)
  default     = {}
}

variable "app_type" {
  description = "spa (browser app, public client, no secret), regular_web (server-side web app with a secret), non_interactive (machine-to-machine, client credentials), native (mobile/desktop, public client)."
  type        = string
  default     = "regular_web"

  validation {
    condition     = contains(["spa", "regular_web", "non_interactive", "native"], var.app_type)
    error_message = "app_type must be one of spa, regular_web, non_interactive, native."
  }
}

variable "callbacks" {
  description = "Allowed callback (redirect) URLs after login, e.g. https://app.example.com/api/auth/oidc/callback."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.callbacks) <= 100 && alltrue([for u in var.callbacks : can(regex("^[a-zA-Z][a-zA-Z0-9+.-]*://[^\\s]+$", u))])
    error_message = "callbacks must be absolute URLs (https://..., or a custom scheme for native apps)."
  }
}

variable "web_origins" {
  description = "Origins allowed for web message response mode / silent authentication, e.g. https://app.example.com."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.web_origins) <= 100 && alltrue([for u in var.web_origins : can(regex("^https?://[^/\\s]+$", u))])
    error_message = "web_origins must be origins (scheme://host[:port], no path)."
  }
}

variable "allowed_logout_urls" {
  description = "URLs Auth0 may redirect to after logout."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.allowed_logout_urls) <= 100 && alltrue([for u in var.allowed_logout_urls : can(regex("^[a-zA-Z][a-zA-Z0-9+.-]*://[^\\s]+$", u))])
    error_message = "allowed_logout_urls must be absolute URLs."
  }
}

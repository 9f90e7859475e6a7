# Asgard supplies the backend at run time (`terraform init -backend-config=...`).
terraform {
  backend "http" {}
}

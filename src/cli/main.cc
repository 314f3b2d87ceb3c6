// chartkeeper: the command-line entry point. Subcommands: serve, import, package load, quality, reindex, user, client,
// audit, rekey, encrypt, backup, restore, version.
// Configuration layers (lowest to highest): defaults, --config FILE (or CHARTKEEPER_CONFIG),
// CHARTKEEPER_* environment variables, flags.

#include <CLI/CLI.hpp>
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "cli/account_commands.h"
#include "cli/audit_command.h"
#include "cli/folder_commands.h"
#include "cli/import_command.h"
#include "cli/package_command.h"
#include "cli/quality_command.h"
#include "cli/reindex_command.h"
#include "cli/serve_command.h"
#include "util/log.h"

namespace {

// Flags given on the command line, applied last.
struct Flags {
  std::string config_file;
  std::map<std::string, std::string> values;
};

void AddConfigFlags(CLI::App& command, Flags& flags) {
  command.add_option("--config", flags.config_file, "TOML configuration file");
  for (std::string_view key : ck::ConfigKeys()) {
    std::string name = "--" + std::string(key);
    std::replace(name.begin(), name.end(), '_', '-');
    if (key == "insecure_http") {  // a switch: given alone, it means true
      command.add_flag_callback(name, [&flags, key] { flags.values[std::string(key)] = "true"; },
                                std::string("see the configuration table in the README"));
      continue;
    }
    command.add_option_function<std::string>(name, [&flags, key](const std::string& value) { flags.values[std::string(key)] = value; },
                                             std::string("see the configuration table in the README"));
  }
}

ck::Result<ck::Config> LoadConfig(const Flags& flags) {
  ck::Config config;
  auto environment = ck::ProcessEnvironment();
  std::string file = flags.config_file;
  if (file.empty() && environment.contains("CHARTKEEPER_CONFIG")) file = environment["CHARTKEEPER_CONFIG"];
  if (!file.empty()) CK_RETURN_IF_ERROR(ck::ApplyConfigFile(config, file));
  CK_RETURN_IF_ERROR(ck::ApplyConfigEnvironment(config, environment));
  for (const auto& [key, value] : flags.values) CK_RETURN_IF_ERROR(ck::ApplyConfigValue(config, key, value));
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates while another holds an arena an arena of its own, up
  // to eight per core; the server's many threads (I/O, reads, 64 writers) and the import's
  // workers then hold hundreds of MiB freed but not returned (an import's peak: 587 MiB, 494 with
  // one arena per core).
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  // No core dumps: a crash must not leave health data or keys on disk in the clear.
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  CLI::App app{"Chartkeeper: a FHIR R4 health information management server"};
  app.require_subcommand(1);
  // Every command takes the configuration flags; one command runs, so they share one Flags.
  Flags flags;
  auto command = [&flags](CLI::App& parent, const char* name, const std::string& help) {
    CLI::App* sub = parent.add_subcommand(name, help);
    AddConfigFlags(*sub, flags);
    return sub;
  };

  CLI::App* serve = command(app, "serve", "Serve the FHIR REST API");

  ck::cli::ImportOptions import_options;
  CLI::App* import = command(app, "import", "Load NDJSON files and FHIR Bundles (.bz2 too) into the data folder");
  import->add_option("files", import_options.files, "NDJSON (.ndjson) or Bundle (.json) files")->required();
  import->add_flag("--fail-fast", import_options.fail_fast, "Stop at the first rejected resource");
  import->add_flag("--as-transactions", import_options.as_transactions,
                   "Apply each transaction Bundle whole: all of its entries or none (others entry by entry)");

  std::vector<std::string> package_files;
  CLI::App* package = app.add_subcommand("package", "Manage FHIR packages (implementation guides)");
  package->require_subcommand(1);
  CLI::App* package_load =
      command(*package, "load", "Store the profiles, value sets and code systems of FHIR packages (.tgz) in the data folder");
  package_load->add_option("files", package_files, "FHIR packages (.tgz), such as hl7.fhir.us.core-6.1.0.tgz")->required();

  ck::cli::QualityOptions quality_options;
  CLI::App* quality = command(app, "quality", "Report the data quality of the stored resources: errors and warnings per rule, "
                                                    "unresolved references, worst offenders");
  quality->add_option("--type", quality_options.types, "Only resources of this type (repeatable)");
  quality->add_option("--json", quality_options.json_file, "Also write the report as JSON to this file");

  CLI::App* reindex = command(app, "reindex", "Rebuild the search index of every stored resource (resumable)");
  ck::cli::ReindexOptions reindex_options;
  reindex->add_option("--type", reindex_options.types, "Only resources of this type, every parameter (repeatable)");
  reindex->add_option("--param", reindex_options.param, "Only this custom search parameter (its SearchParameter's url)");

  std::filesystem::path new_key_file;
  CLI::App* rekey = command(app, "rekey", "Rotate the encryption key: the data key is wrapped under a new key and the old one "
                                          "stops opening the data folder (with --data-key: rotate the data key itself)");
  bool rotate_data_key = false;
  rekey->add_option("--new-key-file", new_key_file,
                    "The new key (a file of 64 hex digits, chmod 600); default: a new random key replaces the key file");
  rekey->add_flag("--data-key", rotate_data_key,
                  "Rotate the data key instead: every page is re-encrypted under a new one while the server serves (resumable)")
      ->excludes("--new-key-file");

  CLI::App* encrypt = command(app, "encrypt", "Encrypt a data folder made in the clear (stop the server first)");

  std::filesystem::path backup_folder;
  CLI::App* backup = command(app, "backup", "Copy the data folder, consistent and encrypted, while the server serves");
  backup->add_option("destination", backup_folder, "A new folder for the backup")->required();

  std::filesystem::path restore_folder;
  CLI::App* restore = command(app, "restore", "Check a backup against its manifest and restore it into an empty data folder");
  restore->add_option("source", restore_folder, "The backup's folder")->required();

  ck::cli::UserCommand user_command;
  CLI::App* user = app.add_subcommand("user", "Manage the users who sign in (the server must be stopped)");
  user->require_subcommand(1);
  {
    using Action = ck::cli::UserCommand::Action;
    auto action = [&](const char* name, const char* help, Action chosen, bool takes_name) {
      CLI::App* sub = command(*user, name, help);
      if (takes_name) sub->add_option("name", user_command.name, "The user's name")->required();
      sub->callback([&user_command, chosen] { user_command.action = chosen; });
      return sub;
    };
    CLI::App* add = action("add", "Add a user; prints a one-time password unless --password-stdin", Action::kAdd, true);
    add->add_option("--role", user_command.roles, "A role from the access policy (repeatable)")->required();
    add->add_option("--fhir-user", user_command.fhir_user, "The FHIR resource the user is, such as Practitioner/123");
    add->add_flag("--password-stdin", user_command.password_stdin, "Read the password from standard input");
    action("list", "List the users", Action::kList, false);
    action("disable", "Disable a user (their tokens stop working)", Action::kDisable, true);
    action("enable", "Enable a disabled user", Action::kEnable, true);
    action("reset-password", "Give a user a new one-time password (their tokens stop working)", Action::kResetPassword, true);
    action("enroll-totp", "Start two-factor enrollment: prints the key as a QR code and ten recovery codes", Action::kEnrollTotp,
           true);
    action("confirm-totp", "Finish two-factor enrollment with a code from the app", Action::kConfirmTotp, true)
        ->add_option("code", user_command.code, "The 6-digit code the app shows")
        ->required();
  }

  ck::cli::ClientCommand client_command;
  CLI::App* client = app.add_subcommand("client", "Manage the OAuth2 clients (apps and backend services; the server must be stopped)");
  client->require_subcommand(1);
  {
    using Action = ck::cli::ClientCommand::Action;
    CLI::App* add = command(*client, "add", "Register a client; prints its client_id (and a confidential client's secret)");
    add->add_option("name", client_command.name, "What people call it")->required();
    add->add_option("--kind", client_command.kind, "public (PKCE), confidential (PKCE and a secret) or backend (signed JWT)")
        ->check(CLI::IsMember({"public", "confidential", "backend"}));
    add->add_option("--redirect-uri", client_command.redirect_uris, "Where an app receives its code (repeatable)");
    add->add_option("--scope", client_command.scope, "The most the client may ask for (space-separated SMART scopes)");
    add->add_option("--public-key", client_command.public_key_file, "A backend service's public key (PEM file)");
    add->add_option("--jwks", client_command.jwks_file, "A backend service's JSON Web Key Set (file)");
    add->add_flag("--secret", client_command.secret,
                  "A backend service proves itself with a shared secret (HTTP Basic) instead of a key pair: for scripts and curl");
    add->add_option("--role", client_command.roles, "A backend service's role (repeatable; default integration)");
    add->callback([&client_command] { client_command.action = Action::kAdd; });
    CLI::App* list = command(*client, "list", "List the clients");
    list->callback([&client_command] { client_command.action = Action::kList; });
    CLI::App* revoke = command(*client, "revoke", "Revoke a client (its tokens stop working)");
    revoke->add_option("client_id", client_command.name, "The client's id")->required();
    revoke->callback([&client_command] { client_command.action = Action::kRevoke; });
  }

  ck::cli::AuditCommand audit_command;
  CLI::App* audit = app.add_subcommand("audit", "Verify, export and report on the audit trail");
  audit->require_subcommand(1);
  {
    using Action = ck::cli::AuditCommand::Action;
    CLI::App* verify = command(*audit, "verify", "Recompute the audit trail's chain and check its signed checkpoints "
                                                 "(exit 3 if it was altered; runs beside the server)");
    verify->add_option("--from", audit_command.from, "Start at this record (trusting the one before it)");
    verify->add_option("--public-key", audit_command.public_key, "Check the seals with this public key (PEM) instead of the audit key");
    verify->callback([&audit_command] { audit_command.action = Action::kVerify; });
    CLI::App* exported = command(*audit, "export", "Write the audit records since a time with their proofs (JSON Lines)");
    exported->add_option("--since", audit_command.since, "A FHIR date or dateTime, such as 2026-01-01")->required();
    exported->add_option("--output", audit_command.output, "A file (default: standard output)");
    exported->callback([&audit_command] { audit_command.action = Action::kExport; });
    CLI::App* disclosures = command(*audit, "disclosures", "One patient's accounting of disclosures (who saw or changed "
                                                                 "their records, when and why)");
    disclosures->add_option("--patient", audit_command.patient, "The Patient's id")->required();
    disclosures->add_option("--start", audit_command.start, "From this date (default: six years ago)");
    disclosures->add_option("--end", audit_command.end, "Through this date (default: now)");
    disclosures->add_option("--exclude", audit_command.exclude, "Purposes of use to leave out, such as TREAT,HPAYMT,HOPERAT");
    disclosures->add_option("--format", audit_command.format, "csv (default) or json (a FHIR Bundle)");
    disclosures->add_option("--output", audit_command.output, "A file (default: standard output)");
    disclosures->callback([&audit_command] { audit_command.action = Action::kDisclosures; });
  }

  CLI::App* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) {
    std::cout << "chartkeeper " << CK_VERSION << " (FHIR 4.0.1)\n";
    return 0;
  }
  auto config = LoadConfig(flags);
  if (!config) {
    std::cerr << "chartkeeper: " << config.error().message() << "\n";
    return 2;
  }
  ck::InitLogging(config->log_level);
  if (serve->parsed()) return ck::cli::RunServe(*config);
  if (package->parsed()) return ck::cli::RunPackageLoad(*config, package_files);
  if (quality->parsed()) return ck::cli::RunQuality(*config, quality_options);
  if (reindex->parsed()) return ck::cli::RunReindex(*config, reindex_options);
  if (rekey->parsed()) return ck::cli::RunRekey(*config, new_key_file, rotate_data_key);
  if (backup->parsed()) return ck::cli::RunBackup(*config, backup_folder);
  if (encrypt->parsed()) return ck::cli::RunEncrypt(*config);
  if (restore->parsed()) return ck::cli::RunRestore(*config, restore_folder);
  if (audit->parsed()) return ck::cli::RunAuditCommand(*config, audit_command);
  if (user->parsed()) return ck::cli::RunUserCommand(*config, user_command);
  if (client->parsed()) return ck::cli::RunClientCommand(*config, client_command);
  return ck::cli::RunImport(*config, import_options);
}

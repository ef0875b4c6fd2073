//! French and English: the procedure is French, some operators read English.
//!
//! One table of (key, English, French); the language comes from the `vigie_lang` cookie
//! (set by the switch in every page's header, `?lang=fr`), else from `Accept-Language`,
//! else English. A key missing from the table shows as "(missing text)"; a unit test checks
//! that every key the pages use is in it.

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The cookie's choice, else the first of `Accept-Language` we speak, else English.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        if let Some(l) = crate::security::cookie(headers, crate::security::LANG_COOKIE)
            .as_deref()
            .and_then(Lang::parse)
        {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        for part in accept.split(',') {
            let tag = part.split(';').next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(l) = Lang::parse(primary) {
                return l;
            }
        }
        Lang::En
    }

    /// The text of `key` in this language.
    pub fn t(self, key: &str) -> &'static str {
        match TEXTS.iter().find(|(k, _, _)| *k == key) {
            Some((_, en, fr)) => match self {
                Lang::En => en,
                Lang::Fr => fr,
            },
            // A bug the unit test below catches.
            None => "(missing text)",
        }
    }
}

/// (key, English, French).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("app.title", "vigie — investigator's desk", "vigie — poste de l'enquêteur"),
    ("nav.cases", "Cases", "Affaires"),
    ("nav.dossier", "Technical dossier", "Dossier technique"),
    ("nav.logout", "Log out", "Se déconnecter"),
    ("nav.signed_in_as", "Signed in as", "Connecté en tant que"),
    ("login.title", "Sign in", "Connexion"),
    ("login.id", "Operator id", "Identifiant"),
    ("login.password", "Password", "Mot de passe"),
    ("login.submit", "Sign in", "Se connecter"),
    ("login.failed", "Sign-in refused: wrong id or password, account disabled, or too many attempts (wait, then try again).", "Connexion refusée : identifiant ou mot de passe erroné, compte désactivé, ou trop de tentatives (attendez puis réessayez)."),
    ("login.expired", "Your session ended (idle too long, logged out, or the account changed). Sign in again.", "Votre session a pris fin (inactivité, déconnexion ou compte modifié). Reconnectez-vous."),
    ("login.notice", "Every action is recorded in the case's tamper-evident audit log under your id.", "Chaque action est inscrite sous votre identifiant dans le journal d'audit inaltérable de l'affaire."),
    ("cases.title", "Cases you may enter", "Affaires accessibles"),
    ("cases.none", "No case is open to you. An administrator grants access to named cases.", "Aucune affaire ne vous est ouverte. Un administrateur donne accès aux affaires."),
    ("cases.new", "Open a case", "Ouvrir une affaire"),
    ("cases.case", "Case", "Affaire"),
    ("cases.procedure", "Procedure", "Procédure"),
    ("cases.purpose", "Purpose", "Finalité"),
    ("cases.status", "Status", "État"),
    ("cases.valid_until", "Authorised until", "Autorisée jusqu'au"),
    ("cases.open", "open", "ouverte"),
    ("cases.closed", "closed", "close"),
    ("cases.expired", "expired", "expirée"),
    ("open.title", "Open a case under an authorisation", "Ouvrir une affaire sous autorisation"),
    ("open.case_id", "Case id (optional)", "Identifiant de l'affaire (facultatif)"),
    ("open.procedure", "Procedure number", "Numéro de procédure"),
    ("open.authorization", "Authorisation reference", "Référence de l'autorisation"),
    ("open.magistrate", "Magistrate", "Magistrat"),
    ("open.authorized_on", "Authorised on", "Autorisée le"),
    ("open.valid_until", "Valid until (optional)", "Valable jusqu'au (facultatif)"),
    ("open.purpose", "Purpose", "Finalité"),
    ("open.submit", "Open the case", "Ouvrir l'affaire"),
    ("open.admin_only", "Only an administrator opens cases.", "Seul un administrateur ouvre une affaire."),
    ("dash.sources", "Sources (evidence)", "Sources (scellés)"),
    ("dash.source", "Source", "Source"),
    ("dash.camera", "Camera", "Caméra"),
    ("dash.duration", "Duration", "Durée"),
    ("dash.sha256", "SHA-256", "SHA-256"),
    ("dash.analysis", "Analysis", "Analyse"),
    ("dash.analysed", "analysed", "analysée"),
    ("dash.not_analysed", "not analysed", "non analysée"),
    ("dash.tracks", "tracks", "pistes"),
    ("dash.coverage", "Coverage", "Couverture"),
    ("dash.alerts", "Alerts", "Alertes"),
    ("dash.no_alerts", "No alert for this case.", "Aucune alerte pour cette affaire."),
    ("dash.audit", "Audit log verification", "Vérification du journal d'audit"),
    ("dash.audit_ok", "verified: chain and signed head intact", "vérifié : chaîne et tête signée intactes"),
    ("dash.audit_bad", "VERIFICATION FAILED", "ÉCHEC DE LA VÉRIFICATION"),
    ("dash.purpose", "Purpose of this session (recorded with each action)", "Finalité de cette session (inscrite avec chaque action)"),
    ("dash.purpose_save", "Record the purpose", "Enregistrer la finalité"),
    ("dash.grant", "Grant an operator access to this case", "Donner accès à cette affaire"),
    ("dash.grant_submit", "Grant", "Donner accès"),
    ("dash.no_sources", "No footage yet: ingest some.", "Aucune vidéo : importez-en."),
    ("menu.dashboard", "Dashboard", "Tableau de bord"),
    ("menu.ingest", "Ingest & analyse", "Import et analyse"),
    ("menu.search", "Search", "Recherche"),
    ("menu.audit", "Audit", "Audit"),
    ("ingest.title", "Ingest and analyse footage", "Importer et analyser des vidéos"),
    ("ingest.roots", "Folders the administrator opened to this server", "Dossiers ouverts à ce serveur par l'administrateur"),
    ("ingest.no_roots", "No ingest folder: the administrator starts the server with --root DIR.", "Aucun dossier d'import : l'administrateur lance le serveur avec --root DIR."),
    ("ingest.camera", "Camera (optional)", "Caméra (facultatif)"),
    ("ingest.start", "Start time when the file has none (RFC 3339, optional)", "Heure de début si le fichier n'en a pas (RFC 3339, facultatif)"),
    ("ingest.detector", "Detector", "Détecteur"),
    ("ingest.sampling", "Sampling", "Échantillonnage"),
    ("ingest.detail", "Objects to find", "Objets à trouver"),
    (
        "ingest.detail.auto",
        "as usual (detector input chosen by the picture's shape)",
        "comme d'habitude (entrée du détecteur choisie selon la forme de l'image)",
    ),
    (
        "ingest.detail.fine",
        "small and distant vehicles too (768x448: about half the speed, fewer large persons near the camera)",
        "aussi les véhicules petits et lointains (768x448 : environ deux fois plus lent, moins de grandes personnes près de la caméra)",
    ),
    ("ingest.submit", "Ingest and analyse the selection", "Importer et analyser la sélection"),
    ("ingest.analyse_all", "Analyse every source not yet analysed", "Analyser toutes les sources non analysées"),
    ("ingest.progress", "Work in progress", "Travail en cours"),
    ("ingest.cancel", "Stop", "Arrêter"),
    ("ingest.up", "Parent folder", "Dossier parent"),
    ("ingest.none_running", "No work running for this case.", "Aucun travail en cours pour cette affaire."),
    ("search.title", "Search", "Recherche"),
    ("search.submit", "Search", "Rechercher"),
    ("search.class", "Class", "Classe"),
    ("search.colour", "Colour", "Couleur"),
    ("search.upper", "Upper body colour", "Couleur du haut"),
    ("search.lower", "Lower body colour", "Couleur du bas"),
    ("search.direction", "Direction", "Direction"),
    ("search.zone", "Zone", "Zone"),
    ("search.dwell_min", "Dwell at least (30s, 2m)", "Stationnement d'au moins (30s, 2m)"),
    ("search.crosses", "Crosses line (name[:in|:out])", "Franchit la ligne (nom[:in|:out])"),
    ("search.from", "From (RFC 3339)", "Du (RFC 3339)"),
    ("search.to", "To (RFC 3339)", "Au (RFC 3339)"),
    ("search.min_size", "Minimum size (5% or 40px)", "Taille minimale (5% ou 40px)"),
    ("search.camera", "Camera", "Caméra"),
    ("search.min_speed", "Minimum speed (px/s)", "Vitesse minimale (px/s)"),
    ("search.max_speed", "Maximum speed (px/s)", "Vitesse maximale (px/s)"),
    ("search.plate", "Plate pattern (AB-1?3-*)", "Motif de plaque (AB-1?3-*)"),
    ("search.plate_fuzzy", "Plate as read (tolerant)", "Plaque telle que lue (tolérante)"),
    ("search.limit", "At most", "Au plus"),
    ("search.sort", "Sort by", "Trier par"),
    ("search.sort_time", "time", "heure"),
    ("search.sort_duration", "duration", "durée"),
    ("search.sort_camera", "camera", "caméra"),
    ("search.sort_confidence", "confidence", "confiance"),
    ("search.any", "any", "toutes"),
    ("search.reason", "Reason for this search (optional)", "Motif de cette recherche (facultatif)"),
    ("search.results", "results", "résultats"),
    ("search.truncated", "More tracks match: narrow the filters or raise the limit.", "D'autres pistes correspondent : affinez les filtres ou augmentez la limite."),
    ("search.no_results", "No track matches.", "Aucune piste ne correspond."),
    ("search.uncovered", "No analysed footage from {from} to {to}: no result there means no footage, not that nothing happened.", "Aucune vidéo analysée du {from} au {to} : l'absence de résultat signifie absence de vidéo, pas absence d'événement."),
    ("search.open_player", "Watch", "Visionner"),
    ("search.synopsis", "Build a synopsis of these results for source", "Construire un synopsis de ces résultats pour la source"),
    ("search.synopsis_submit", "Build the synopsis", "Construire le synopsis"),
    ("player.title", "Player", "Lecteur"),
    ("player.rendering", "Rendering of the evidence: frames decoded by vigie from the original file, scaled for the screen. The evidence itself is never altered.", "Rendu du scellé : images décodées par vigie depuis le fichier original et mises à l'échelle de l'écran. Le scellé n'est jamais modifié."),
    ("player.play", "Play", "Lecture"),
    ("player.pause", "Pause", "Pause"),
    ("player.back", "Previous frame", "Image précédente"),
    ("player.forward", "Next frame", "Image suivante"),
    ("player.clip", "Export the clip", "Exporter l'extrait"),
    ("player.margin", "Margin (s)", "Marge (s)"),
    ("player.add_report", "Add this frame to the report", "Ajouter cette image au rapport"),
    ("player.track", "Track", "Piste"),
    ("player.time", "Time", "Heure"),
    ("player.disclosure", "Exports are disclosures: each is hashed and recorded in the audit log.", "Les exports sont des communications : chacun est haché et inscrit au journal d'audit."),
    ("verify.in_progress", "Verification in progress: the source is being re-hashed (SHA-256) and compared with its ingest hash. These first frames are shown meanwhile.", "Vérification en cours : l'empreinte SHA-256 de la source est recalculée et comparée à celle de l'import. Les premières images sont montrées en attendant."),
    ("verify.ok", "Verified: the source still has its ingest SHA-256.", "Vérifiée : la source a toujours l'empreinte SHA-256 de l'import."),
    ("verify.changed", "EVIDENCE CHANGED since ingest: the player stopped and the data controller was alerted.", "SCELLÉ MODIFIÉ depuis l'import : le lecteur s'est arrêté et le responsable du traitement a été alerté."),
    ("verify.unreadable", "The source could not be read to the end, so it cannot be verified: the player stopped.", "La source n'a pas pu être lue jusqu'au bout et ne peut donc pas être vérifiée : le lecteur s'est arrêté."),
    ("verify.ended", "This player ended (idle, or the case closed): open it again.", "Ce lecteur s'est arrêté (inactivité ou affaire close) : rouvrez-le."),
    ("camera.title", "Camera view", "Vue caméra"),
    ("camera.open", "Zones and lines", "Zones et lignes"),
    ("camera.intro", "Draw this camera's zones and directional lines on a frame of its footage. Saving records them in the case's audit log and applies them at once to the tracks already analysed (from their stored boxes, without running detection again).", "Tracez les zones et les lignes orientées de cette caméra sur une image de ses vidéos. L'enregistrement les inscrit au journal d'audit de l'affaire et les applique aussitôt aux pistes déjà analysées (à partir de leurs boîtes conservées, sans relancer la détection)."),
    ("camera.source", "Frame of source", "Image de la source"),
    ("camera.show", "Show", "Afficher"),
    ("camera.draw", "Draw", "Tracer"),
    ("camera.mode_zone", "a zone (click its corners in order)", "une zone (cliquez ses coins dans l'ordre)"),
    ("camera.mode_line", "a line (click its two ends)", "une ligne (cliquez ses deux extrémités)"),
    ("camera.zone_name", "Zone name", "Nom de la zone"),
    ("camera.line_name", "Line name", "Nom de la ligne"),
    ("camera.close", "Close the zone", "Fermer la zone"),
    ("camera.cancel", "Cancel the shape being drawn", "Annuler le tracé en cours"),
    ("camera.zone_hint", "Name the zone, click its corners on the picture, then close it.", "Nommez la zone, cliquez ses coins sur l'image, puis fermez-la."),
    ("camera.line_hint", "Name the line, then click its start and its end on the picture.", "Nommez la ligne, puis cliquez son début et sa fin sur l'image."),
    ("camera.direction", "A line has a direction: crossing it the way its arrow points is \"in\" (search name:in), the other way \"out\".", "Une ligne est orientée : la franchir dans le sens de sa flèche est « in » (recherche nom:in), dans l'autre sens « out »."),
    ("camera.need_name", "Give it a name first.", "Donnez-lui d'abord un nom."),
    ("camera.need_points", "A zone needs at least 3 corners.", "Une zone demande au moins 3 coins."),
    ("camera.name_taken", "That name is already used on this camera.", "Ce nom est déjà utilisé sur cette caméra."),
    ("camera.shapes", "Zones and lines of this camera", "Zones et lignes de cette caméra"),
    ("camera.none", "No zone or line yet.", "Aucune zone ni ligne pour l'instant."),
    ("camera.zone", "zone", "zone"),
    ("camera.line", "line", "ligne"),
    ("camera.points", "corners", "coins"),
    ("camera.delete", "Delete", "Supprimer"),
    ("camera.search_zone", "Search in zone", "Rechercher dans la zone"),
    ("camera.search_line", "Search crossing", "Rechercher le franchissement de"),
    ("camera.save", "Save and apply to the analysed tracks", "Enregistrer et appliquer aux pistes analysées"),
    ("camera.unsaved", "Changes not saved yet.", "Modifications non enregistrées."),
    ("camera.saved", "Saved and recorded in the audit log: applied to {tracks} tracks of {sources} analysed sources; {in} of them are in a zone or cross a line.", "Enregistré et inscrit au journal d'audit : appliqué à {tracks} pistes de {sources} sources analysées ; {in} d'entre elles sont dans une zone ou franchissent une ligne."),
    ("camera.refused", "Not saved", "Non enregistré"),
    ("export.done", "Export written and recorded", "Export écrit et inscrit"),
    ("export.download", "Download (recorded as a disclosure)", "Télécharger (inscrit comme communication)"),
    ("synopsis.title", "Synopsis", "Synopsis"),
    ("synopsis.rendering", "Synopsis: objects recorded at different times shown together over the background, rendered by vigie from the original file (never altered). Click an object to watch the original.", "Synopsis : objets enregistrés à des moments différents montrés ensemble sur le fond, rendus par vigie depuis le fichier original (jamais modifié). Cliquez sur un objet pour voir l'original."),
    ("synopsis.objects", "Objects (click one, or click it in the video, to watch the original)", "Objets (cliquez-en un, ou dans la vidéo, pour voir l'original)"),
    ("syn.settings", "Settings (optional)", "Réglages (facultatifs)"),
    ("syn.max_length_s", "Longest synopsis, seconds (empty: as short as the collision budget allows)", "Durée maximale du synopsis, en secondes (vide : aussi court que le budget de collisions le permet)"),
    ("syn.max_objects", "At most this many objects on screen at once (empty: no limit)", "Au plus ce nombre d'objets à l'écran en même temps (vide : sans limite)"),
    ("syn.max_collisions_pct", "Collision budget, % of object pixels (default 5)", "Budget de collisions, % des pixels d'objets (5 par défaut)"),
    ("syn.together_s", "Shown together when together for, s (default 1.5; 0: never)", "Montrés ensemble s'ils l'étaient pendant, s (1,5 par défaut ; 0 : jamais)"),
    ("syn.object_speed", "Objects shown faster than they moved, x (default 1: their own pace; up to 4)", "Objets montrés plus vite qu'ils ne bougeaient, x (1 par défaut : leur allure ; jusqu'à 4)"),
    ("csyn.title", "Synopsis of a camera", "Synopsis d'une caméra"),
    ("csyn.link", "Synopsis of a whole camera", "Synopsis de toute une caméra"),
    ("csyn.intro", "Every analysed file of the camera that has a wall-clock start, ordered by its corrected clock and cut to the range when one is given, condensed into one synopsis. It is recorded as a combination of each file and a disclosure.", "Tous les fichiers analysés de la caméra qui ont une heure de début, ordonnés selon leur horloge corrigée et coupés à la plage si elle est donnée, condensés en un seul synopsis. Il est inscrit comme rapprochement de chaque fichier et comme communication."),
    ("csyn.camera", "Camera", "Caméra"),
    ("csyn.files", "files", "fichiers"),
    ("csyn.from", "From (corrected clock, optional)", "Du (horloge corrigée, facultatif)"),
    ("csyn.to", "To (corrected clock, optional)", "Au (horloge corrigée, facultatif)"),
    ("csyn.submit", "Build the camera synopsis", "Construire le synopsis de la caméra"),
    ("csyn.none", "No source of this case has a camera yet: ingest footage first.", "Aucune source de cette affaire n'a encore de caméra : ingérez d'abord des enregistrements."),
    ("csyn.refused", "Synopsis not made", "Synopsis non construit"),
    ("csyn.done", "Synopsis written and recorded", "Synopsis écrit et inscrit"),
    ("csyn.view", "Watch the synopsis", "Regarder le synopsis"),
    ("csyn.objects", "objects", "objets"),
    ("csyn.left_out", "Left out:", "Laissé de côté :"),
    ("fig.footage", "Files: footage → synopsis", "Fichiers : enregistrement → synopsis"),
    ("fig.condensation", "Condensation", "Condensation"),
    ("fig.at_once", "Objects on screen at once, at most", "Objets à l'écran en même temps, au plus"),
    ("fig.at_most", "limit", "limite"),
    ("fig.collisions", "Collisions made by the synopsis (share of object pixels)", "Collisions créées par le synopsis (part des pixels d'objets)"),
    ("fig.footage_overlap", "Overlaps as in the footage (objects shown together)", "Chevauchements d'origine (objets montrés ensemble)"),
    ("fig.groups", "groups of objects that were together", "groupes d'objets qui étaient ensemble"),
    ("fig.object_speed", "Moving objects shown faster than they moved (×1: their own pace; labels keep the real time)", "Objets en mouvement montrés plus vite qu'ils ne bougeaient (×1 : leur allure ; les étiquettes gardent l'heure réelle)"),
    ("fig.within", "within the budget of", "dans le budget de"),
    ("fig.over", "over the budget of", "au-delà du budget de"),
    ("fig.planned", "planned", "prévu"),
    ("fig.objects", "Objects shown / selected", "Objets montrés / sélectionnés"),
    ("fig.segments", "Moving segments (objects cut → segments cut)", "Segments en mouvement (objets coupés → segments coupés)"),
    ("fig.stationary", "Stationary stretches in the background (objects only there)", "Arrêts montrés dans le fond (objets seulement là)"),
    ("fig.redacted", "Unselected objects redacted", "Objets non sélectionnés masqués"),
    ("audit.title", "Audit log", "Journal d'audit"),
    ("audit.action", "Category", "Catégorie"),
    ("audit.by", "Operator", "Opérateur"),
    ("audit.text", "Contains", "Contient"),
    ("audit.filter", "Filter", "Filtrer"),
    ("audit.seq", "No.", "N°"),
    ("audit.time", "Time (UTC)", "Heure (UTC)"),
    ("audit.event", "Event", "Événement"),
    ("audit.justification", "Justification", "Justification"),
    ("audit.report", "Write the exploitation report", "Générer le rapport d'exploitation"),
    ("audit.reports", "Reports written", "Rapports générés"),
    ("audit.print", "Print", "Imprimer"),
    ("audit.bad_lines", "lines of the log are not audit entries: run `vigie audit verify`", "lignes du journal ne sont pas des entrées d'audit : lancez `vigie audit verify`"),
    ("common.reason", "Reason (optional)", "Motif (facultatif)"),
    ("common.back", "Back", "Retour"),
    ("error.title", "Request refused", "Requête refusée"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_present() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, en, fr) in TEXTS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!en.is_empty() && !fr.is_empty(), "{k}");
        }
    }

    #[test]
    fn every_key_the_pages_use_exists() {
        // Every `.t("...")` in the sources names a key of the table.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir)
            .unwrap()
            .chain(std::fs::read_dir(format!("{dir}/pages")).unwrap())
        {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("rs") || path.ends_with("i18n.rs")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split(".t(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                if !TEXTS.iter().any(|(k, _, _)| *k == key) {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from TEXTS: {missing:?}");
    }

    #[test]
    fn accept_language_is_read() {
        let mut h = HeaderMap::new();
        h.insert(
            "accept-language",
            "de-DE, fr-FR;q=0.8, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(Lang::from_headers(&h), Lang::Fr);
        h.insert("cookie", "vigie_lang=en".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::En);
    }
}

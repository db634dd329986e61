"""Demo data for `seed_demo`: course C5092Z as announced, its second edition, the lab course."""

from __future__ import annotations

import datetime as dt

SEED_TEACHERS = {
    "fosti": ("Giovanni Fosti", "Associate Professor of Practice di Welfare e Social Innovation"),
    "perobelli": ("Eleonora Perobelli", "Assistant Professor of Practice di Public Management"),
}

C5092Z = {
    "title": "Gestione delle interdipendenze e welfare di iniziativa",
    "course_type": "Corso",
    "provider": "SDA Bocconi School of Management",
    "summary": (
        "Tre mezze giornate in presenza per promuovere logiche di welfare di iniziativa tra i "
        "Comuni della Città Metropolitana di Milano e riconoscere le interdipendenze tra enti."
    ),
    "description": (
        "La Città Metropolitana di Milano dal 2018 è partner del progetto «Derive e Approdi», "
        "finanziato dalla Presidenza del Consiglio dei Ministri Dipartimento per le Pari "
        "Opportunità, con capofila il Comune di Milano. L'iniziativa pone il faro, tra gli altri, "
        "sui fenomeni della tratta per sfruttamento a fini sessuali e del grave sfruttamento del "
        "lavoro. L'obiettivo di Derive e Approdi è far emergere questi episodi; contrastarli "
        "attraverso la sensibilizzazione, e tutelare e assistere chi ne è vittima.\n\n"
        "Questi fenomeni si manifestano con diversa intensità tra i comuni della Città "
        "Metropolitana, con alcuni in cui è più visibile e sentito (es. Milano) e altri in cui lo "
        "è meno. Le ragioni di queste eterogeneità dipendono da un lato, dalle caratteristiche "
        "dimensionali del Comune capoluogo rispetto a quelli della cinta metropolitana; "
        "dall'altro, dalla disponibilità, riconoscibilità e attrattività di servizi del Comune di "
        "Milano, a cui si rivolgono vittime che provengono anche da altri territori per cercare "
        "supporto.\n\n"
        "La residualità dei casi che si presentano a molti Comuni può portare i servizi a "
        "considerarli come un tema meno prioritario di altri che invece si presentano "
        "quotidianamente. Tuttavia, parte della poca affluenza ai servizi potrebbe essere "
        "implicitamente generata dall'attuale impostazione dei servizi stessi, che pongono e "
        "comunicano una attenzione residuale a questi temi. Questo rischio non riguarda "
        "unicamente le persone vittime di tratta o di grave sfruttamento del lavoro, poiché "
        "riflette una delle principali trappole per i servizi di welfare, quella del meccanismo "
        "«insider / outsider» (dalla teoria economica sviluppata da Assar Lindbeck e Dennis "
        "Snower nel 1984); ossia, avere maggiore consapevolezza e capacità di risposta verso i "
        "bisogni delle persone già in carico ai servizi, perché più «visibili» e conosciute "
        "(insider); rispetto a coloro che per limiti cognitivi, economici o di più generali "
        "barriere all'accesso non sono inserite nel circuito della presa in carico (outsider).\n\n"
        "In una fase in cui i Comuni lombardi stanno ultimando la programmazione strategica dei "
        "servizi per il prossimo triennio, si apre una finestra di opportunità per aprire spazi "
        "di lavoro per promuovere un approccio condiviso ai problemi sociali che attraversano la "
        "Città Metropolitana di Milano, adottando logiche di gestione strategica dei servizi in "
        "grado di «sfuggire» al meccanismo insider / outsider, fondando l'azione su un'attenta "
        "consapevolezza dei bisogni, prima che della domanda, e sulla capacità di lavorare in "
        "rete, promuovendo logiche anticipatorie dei problemi (welfare di iniziativa) in luogo al "
        "tradizionale approccio riparatore dei servizi."
    ),
    "objectives": (
        "A partire dalle premesse precedentemente esposte, l'obiettivo del percorso è di:\n"
        "1) promuovere logiche di welfare di iniziativa tra Comuni della Città Metropolitana di "
        "Milano;\n"
        "2) riconoscere e valorizzare le interdipendenze tra comuni e tra altri stakeholder del "
        "territorio rilevanti per affrontare i bisogni sociali complessi con cui si confronta il "
        "territorio."
    ),
    "methodology": (
        "Tre mezze giornate di formazione in presenza, in cui verranno portati esempi e buone "
        "pratiche dal contesto nazionale e internazionale. I docenti incoraggeranno il contributo "
        "attivo dei partecipanti, per far emergere già dalla discussione piste di lavoro per "
        "promuovere la collaborazione tra gli enti coinvolti."
    ),
    "audience": (
        "Il percorso formativo è rivolto a Dirigenti e/o funzionari apicali di Uffici di Piano di "
        "ambiti sociali e/o di aziende pubbliche di servizi. Numero massimo di partecipanti: 20."
    ),
    "venue": "Città Metropolitana di Milano, Viale Piceno, 60, Milano",
    "organiser": "Città Metropolitana di Milano",
    "scientific_lead": (
        "Susanna Galli, Responsabile Servizio welfare, terzo Settore e pari opportunità - Settore "
        "Politiche del Lavoro, welfare e pari opportunità"
    ),
    "secretariat": (
        "Servizio welfare, terzo Settore e pari opportunità - Settore Politiche del Lavoro, "
        "welfare e pari opportunità\n"
        "Telefono 02 7740.3135, 6925\n"
        "E-mail segreteriaservizioformazione@cittametropolitana.mi.it"
    ),
    "capacity": 20,
    "requires_approval": True,
    "is_free": True,
    "credits": (
        "Verrà richiesto il riconoscimento dei crediti (FCO.AS) validi ai fini della formazione "
        "continua degli assistenti sociali. La soglia minima di frequenza richiesta è dell'80% "
        "delle ore totali previste per tutte le professioni.\n\n"
        "Non è previsto l'accreditamento ECM per i profili sanitari (educatori professionali, "
        "psicologi, psichiatri, psicoterapeuti, neuropsichiatri, infermieri, ASA, OSS, ecc.).\n\n"
        "L'attestato crediti sarà rilasciato esclusivamente ai partecipanti che avranno raggiunto "
        "la soglia minima di partecipazione."
    ),
    "grants_fcoas_credits": True,
    "attendance_threshold_percent": 80,
}

# (title, [(start, end, contents, teacher keys, speaker note, is break)])
BOTH = ("fosti", "perobelli")
C5092Z_PROGRAMME = [
    (
        "La gestione strategica dei servizi di welfare",
        [
            ("09:00", "09:30", "Introduzione e obiettivi del corso", BOTH, "", False),
            (
                "09:30",
                "09:50",
                "Il progetto Derive e Approdi: contesto, trend e obiettivi",
                (),
                "Funzionario del Comune di Milano",
                False,
            ),
            (
                "09:50",
                "11:00",
                "Orientare la gestione alla creazione di valore pubblico",
                BOTH,
                "",
                False,
            ),
            ("11:00", "11:15", "Break", (), "", True),
            (
                "11:15",
                "13:00",
                "Distinguere domanda, bisogno, utenza in carico\n"
                "Leve di gestione strategica per un welfare di iniziativa",
                BOTH,
                "",
                False,
            ),
        ],
    ),
    (
        "Leggere e riconoscere le interdipendenze",
        [
            (
                "09:00",
                "11:00",
                "Costruire decisioni nelle reti multi-attoriali; Attivare risorse e valorizzare le "
                "interdipendenze, oltre al perimetro dei servizi.",
                BOTH,
                "",
                False,
            ),
            ("11:00", "11:15", "Break", (), "", True),
            (
                "11:15",
                "13:00",
                "Riconoscere e valorizzare le interdipendenze tra gli enti presenti in aula: "
                "esercitazione guidata e discussione in plenaria",
                BOTH,
                "",
                False,
            ),
        ],
    ),
    (
        "Costruire risposte di rete",
        [
            (
                "09:00",
                "11:00",
                "Le barriere all'integrazione nelle reti. Gli snodi critici per una gestione più "
                "efficace dei fenomeni della tratta e del grave sfruttamento lavorativo: "
                "esercitazione guidata",
                BOTH,
                "",
                False,
            ),
            ("11:00", "11:15", "Break", (), "", True),
            (
                "11:15",
                "12:30",
                "Piste di lavoro per costruire risposte condivise, in una logica di rete",
                BOTH,
                "",
                False,
            ),
            ("12:30", "13:00", "Chiusura e principali apprendimenti del corso", BOTH, "", False),
        ],
    ),
]
C5092Z_1_DATES = [dt.date(2026, 3, 19), dt.date(2026, 4, 8), dt.date(2026, 4, 28)]
C5092Z_1_DEADLINE = dt.date(2026, 3, 12)

LAB = {
    "title": "Laboratorio di welfare collaborativo: co-programmazione e co-progettazione",
    "course_type": "Percorso laboratoriale",
    "provider": "Consorzio SiR e CSV Lombardia",
    "summary": (
        "Un percorso laboratoriale per 70 professionisti del Comune e del Terzo settore, per "
        "sviluppare un linguaggio condiviso e prassi integrate di co-progettazione tra pubblico "
        "e privato sociale (art. 55 del Codice del Terzo Settore)."
    ),
    "description": (
        "Il progetto punta a sviluppare un linguaggio condiviso e prassi integrate per rafforzare "
        "la co-progettazione tra pubblico e privato sociale. L'amministrazione condivisa, "
        "introdotta nel nostro ordinamento dall'art. 55 del Codice del Terzo Settore, non è solo "
        "uno strumento giuridico, ma un approccio culturale e politico che riconosce il valore "
        "delle comunità e ne valorizza le competenze.\n\n"
        "Promosso da Consorzio SiR e CSV Lombardia, con il sostegno del Forum del Terzo Settore "
        "cittadino, della Fondazione di Comunità Milano e della Direzione Welfare e Salute."
    ),
    "audience": (
        "70 professionisti: 40 posti per enti del Terzo settore e 30 per personale del Comune "
        "(sei diverse direzioni)."
    ),
    "venue": "Comune di Milano, Direzione Welfare e Salute, Milano",
    "organiser": "Città Metropolitana di Milano",
    "capacity": 70,
    "requires_approval": False,
    "is_free": True,
    "credits": "Attestato di partecipazione con soglia minima di frequenza dell'80% delle ore.",
    "grants_fcoas_credits": False,
    "eligible_organisation_types": ["terzo_settore", "comune"],
}
LAB_QUOTAS = {"terzo_settore": 40, "comune": 30}
LAB_PROGRAMME = [
    ("Amministrazione condivisa: linguaggi e ruoli", "09:30", "12:30"),
    ("Co-programmazione: leggere i bisogni insieme", "09:30", "12:30"),
    (
        "Co-progettazione: dalla relazione committente-fornitore alla co-responsabilità",
        "09:30",
        "12:30",
    ),
    ("Governance condivisa e valutazione", "09:30", "12:30"),
]

PARTICIPANTS = [
    # email, first, last, profession, organisation, type, role, ambito
    (
        "mario.rossi@example.org",
        "Mario",
        "Rossi",
        "assistente_sociale",
        "Comune di Sesto San Giovanni",
        "comune",
        "Coordinatore servizio sociale",
        "Ambito di Sesto San Giovanni",
    ),
    (
        "giulia.bianchi@example.org",
        "Giulia",
        "Bianchi",
        "dirigente",
        "Azienda speciale consortile Insieme per il sociale",
        "azienda_speciale",
        "Direttrice",
        "Ufficio di Piano Cinisello Balsamo",
    ),
    (
        "luca.verdi@example.org",
        "Luca",
        "Verdi",
        "funzionario",
        "Comune di Rho",
        "comune",
        "Funzionario apicale Ufficio di Piano",
        "Ambito del Rhodense",
    ),
    (
        "anna.neri@example.org",
        "Anna",
        "Neri",
        "educatore_professionale",
        "Cooperativa sociale Il Ponte",
        "terzo_settore",
        "Coordinatrice di progetto",
        "",
    ),
]

_MONTHS = "ABCDEHLMPRST"
_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"


def demo_codice_fiscale(index: int, *, female: bool = False) -> str:
    """A well-formed, checksummed, unique codice fiscale for demo person number `index`."""
    from stdnum.it import codicefiscale

    letters = []
    n = index
    for _ in range(3):
        n, r = divmod(n, len(_LETTERS))
        letters.append(_LETTERS[r])
    surname = "DMO"
    name = "".join(letters)
    year = f"{60 + index % 40:02d}"
    month = _MONTHS[index % 12]
    day = 1 + (index // 12) % 28 + (40 if female else 0)
    body = f"{surname}{name}{year}{month}{day:02d}F205"
    return body + codicefiscale.calc_check_digit(body)

# ruff: noqa: E501  (prose data: one block per line reads better than wrapped strings)
"""A realistic Danish blog post for the Argos benchmark: 60 blocks with inline markup.

Written for this benchmark. Each entry is the inner HTML of one block (heading, paragraph, list item,
quote, caption), the unit a WordPress post is segmented into.
"""

from __future__ import annotations

BLOCKS: tuple[str, ...] = (
    "Netværk er guld – også når tiderne er svære",
    "Hvorfor et stærkt netværk betaler sig",
    "Et godt netværk er ikke en samling visitkort. Det er <strong>mennesker, der hjælper hinanden</strong>, "
    "også når der ikke er en ordre på bordet.",
    "I vores undersøgelse blandt 412 medlemmer svarede to ud af tre, at de har fået mindst én ny kunde "
    'gennem <a href="https://example.dk/netvaerk">et anbefalet kontakt</a> det seneste år.',
    "Det lyder enkelt, men det kræver tid, tillid og en vis portion nysgerrighed.",
    'Læs også vores guide til <a href="https://example.dk/guide">de første 90 dage i et nyt netværk</a>.',
    "Sådan kommer du i gang",
    "Start med de mennesker, du allerede kender, og spørg dem, hvem de synes, du bør møde.",
    "Vælg <em>én</em> fast mødegruppe frem for fem tilfældige arrangementer om måneden.",
    "Forbered et kort svar på spørgsmålet om, hvad du arbejder med – højst to sætninger.",
    "Følg op inden for 48 timer. En kort mail med <strong>et konkret forslag</strong> virker bedre end en lang præsentation.",
    "Giv, før du beder om noget. Del en artikel, en kontakt eller et godt råd.",
    'Husk, at netværk også er <a href="https://example.dk/online">online</a>: en gennemtænkt profil gør det lettere at finde dig.',
    "Erfaringer fra messen i Herning",
    "På messen i Herning den 1. maj mødte vi bl.a. tre virksomheder fra Aarhus, som nu samarbejder om indkøb.",
    "De havde aldrig talt sammen før, selv om de ligger under ti kilometer fra hinanden.",
    "„Vi troede, vi var konkurrenter. Det viste sig, at vi manglede de samme leverandører,“ fortæller "
    "<strong>Mette Holm</strong>, direktør i en af virksomhederne.",
    "Samarbejdet har ifølge hende sparet dem for ca. 15 procent på råvarerne.",
    'Se billederne fra dagen i vores <a href="https://example.dk/galleri">galleri</a>.<br>Fotos: Jens Berg.',
    "Ledelse og fællesskab",
    "Mange ledere ser netværk som noget, man gør ved siden af det egentlige arbejde.",
    "Men i en tid med mangel på arbejdskraft er netværket ofte <em>den</em> vigtigste kanal til nye medarbejdere.",
    "Når en medarbejder anbefaler en kandidat, bliver vedkommende typisk længere i jobbet.",
    'Derfor giver det mening at gøre netværk til en del af <a href="https://example.dk/strategi">virksomhedens strategi</a> '
    "og ikke kun den enkeltes ansvar.",
    "Tre spørgsmål til dit næste møde",
    "Hvad er den største udfordring i din forretning lige nu?",
    "Hvem ville du gerne møde, hvis du kunne vælge frit?",
    "Hvordan kan jeg hjælpe dig med det, du arbejder på?",
    "Spørgsmålene virker banale, men de flytter samtalen fra småsnak til noget, der kan føre til handling.",
    "Typiske fejl – og hvordan du undgår dem",
    "Den mest almindelige fejl er at sælge for tidligt. Ingen har lyst til at få et <strong>salgsoplæg</strong> ved kaffemaskinen.",
    "En anden fejl er at glemme at følge op. Et godt møde uden opfølgning er et tabt møde.",
    "Og så er der dem, der kun dukker op, når de selv har brug for noget. Det bliver hurtigt bemærket.",
    "Vær tålmodig. Et netværk er en langsigtet investering, ikke en kampagne.",
    "Hvad siger tallene?",
    "Ifølge Danmarks Statistik har 38 pct. af de små virksomheder fået mindst én opgave via deres netværk i 2024.",
    "Blandt virksomheder med over 50 ansatte er tallet lidt lavere, men stadig over en fjerdedel.",
    'Tallene stemmer overens med vores egen <a href="https://example.dk/rapport-2024.pdf">medlemsrapport (PDF, 2,4 MB)</a>.',
    "Det tyder på, at netværk betyder mest, hvor der er færrest formelle salgskanaler.",
    "Kommende arrangementer",
    'Morgenmøde i Vejle, tirsdag den 14. januar kl. 7.30–9.00. <a href="https://example.dk/tilmeld">Tilmeld dig her</a>.',
    "Netværksdagen i Odense med oplæg om bæredygtig forretning og fælles frokost.",
    "Online workshop: Sådan skriver du en profil, der bliver læst. Link sendes ved tilmelding.",
    "Sommermøde på Fyn med rundvisning hos en lokal producent af økologiske fødevarer.",
    'Se hele kalenderen på <a href="https://example.dk/kalender">example.dk/kalender</a> eller skriv til os på info@example.dk.',
    "Et par ord fra formanden",
    "„Vi er ikke en klub for de få. Vi er et fællesskab for alle, der vil lære af hinanden,“ siger formand "
    "<em>Anders Lund</em>.",
    "Han peger på, at foreningen er vokset med næsten 20 procent på to år.",
    "Væksten kommer især fra yngre iværksættere, som søger sparring uden for deres egen branche.",
    "Det er en udvikling, vi glæder os over, og som vi vil gøre mere for at understøtte.",
    "Bliv medlem",
    "Et medlemskab koster 1.200 kr. om året for virksomheder med under ti ansatte. "
    '<a href="https://example.dk/medlem">Læs mere om medlemskab</a>.',
    "Som medlem får du adgang til alle arrangementer, vores digitale mødested og rabat på kurser.",
    "Du kan prøve et arrangement gratis, før du beslutter dig.",
    "Del dine erfaringer med andre medlemmer i vores forum.",
    "Har du spørgsmål, så ring på tlf. 70 20 30 40 eller send en mail. Vi svarer normalt inden for én arbejdsdag.",
    "Tak fordi du læste med. Del gerne indlægget med en, der kunne have glæde af det.",
    "Skrevet af <strong>Redaktionen</strong> · 12. november 2026",
    "Foto: Deltagere i samtale under messen i Herning.",
    "Kategorier: Netværk, Ledelse, Forretning",
)

/**
 * An eighth round of real-traffic prompts, written one by one for the borders where the eighth
 * independent evaluation went wrong (described to the writer as error patterns, items not seen):
 *
 * - creative follow-ups that carry little content themselves ("another one about X", "same style,
 *   one more", "just a name, make it a pun", "keep going and add a twist", end words for a sestina,
 *   "full revision, keep my voice" with a pasted draft, a stand-up set after talking about the
 *   occasion), and creative asks in Czech, Polish, Greek, Hungarian, Romanian, Danish, Dutch, Swedish
 *   and Korean, stories in a classic author's manner, corporate text rewritten as noir, game lore
 *   (magic-system bibles, codex entries, audio logs that reveal a story);
 * - reasoning asks that look like facts or like code: molar masses and moles, Bayes questions with
 *   sensitivity and prevalence in several languages, puzzles to solve, proofs asked in formal German,
 *   Korean, Polish, Greek, Hungarian, Romanian and other languages, "write the full proof" follow-ups;
 * - coding asks that look like chat: Home Assistant follow-ups that only give entity ids, Postgres
 *   follow-ups with row counts and planner estimates, HTTP clients and caches asked in Chinese,
 *   Korean, Polish and other languages;
 * - general asks that look creative, technical or numeric: cooking follow-ups, pasted meeting notes
 *   to turn into action items, follow-ups in a discussion analysing a poem, office and studio
 *   decisions with headcounts, wishlists and budgets, narrative sections of funding applications;
 *
 * each with counter-examples from the other side of the border ("one more like that" after book
 * recommendations is general, after a calculation reasoning, after a test case coding).
 * Like the other traffic files, all of it trains (outside the hash split).
 */
import type { Category, ChatMessage } from '../../../../../plugin-api/index.js';
import type { LabelledConversation } from './traffic-conversations.js';

const u = (content: string): ChatMessage => ({ role: 'user', content });
const a = (content: string): ChatMessage => ({ role: 'assistant', content });
const s = (content: string): ChatMessage => ({ role: 'system', content });
const c = (category: Category, ...messages: ChatMessage[]): LabelledConversation => ({ category, messages });

const CREATIVITY: readonly string[] = [
  // creative asks in the languages the corpus barely had
  `Napiš krátkou pohádku pro děti ve školce o ježkovi, který se bojí tmy. Tak 200 slov, ať to má hezký konec.`,
  `Napiš rýmovanou básničku o podzimu na vesnici, čtyři sloky, pro druhou třídu.`,
  `Vymysli vtipnou básničku k padesátinám mého táty, rád rybaří a pořád ztrácí brýle.`,
  `Napisz krótką bajkę na dobranoc o smoku, który boi się ognia i chce zostać piekarzem.`,
  `Napisz wiersz na 80. urodziny babci, z rymami, ciepły i trochę zabawny. Babcia kocha ogród i seriale.`,
  `Napisz krótkie opowiadanie grozy o opuszczonej stacji kolejowej gdzieś na Podlasiu, klimat jak z lat 80.`,
  `Wymyśl piosenkę na pożegnanie naszej wychowawczyni, na melodię czegoś prostego, trzy zwrotki i refren.`,
  `Γράψε ένα σύντομο ποίημα για τη θάλασσα ένα καλοκαιρινό απόγευμα στη Νάξο.`,
  `Γράψε μια μικρή ιστορία για παιδιά δημοτικού με έναν γάτο που ταξιδεύει κρυφά με το καράβι για την Κρήτη.`,
  `Γράψε ένα αστείο τετράστιχο για τη γιορτή του συναδέλφου μου του Γιώργου.`,
  `Írj egy rövid mesét óvodásoknak egy kis sünről, aki barátot keres az erdőben.`,
  `Írj egy vicces verset a kollégám nyugdíjba vonulására, 30 évig volt könyvelő és imádja a kávét.`,
  `Scrie o poezie scurtă despre iarna la bunici, cu rimă, pentru serbarea de Crăciun a clasei a treia.`,
  `Scrie o povestire scurtă în stilul lui Caragiale despre o ședință de asociație de proprietari.`,
  `Skriv et kort digt om en regnfuld søndag med hygge, te og en gammel kat.`,
  `Skriv en lille godnathistorie om en elg, der gerne vil lære at svømme.`,
  `Schrijf een kort verhaal over een fietsenmaker in Utrecht die een bel vindt die de toekomst laat horen.`,
  `Schrijf een grappig afscheidsgedicht voor onze teamleider, ze gaat naar Zeeland verhuizen en houdt van zeilen.`,
  `Skriv en kort saga om en igelkott som vill bli brandman, för barn i förskoleåldern.`,
  `Skriv en visa om midsommar på Gotland, tre verser och en refräng som är lätt att sjunga med i.`,
  `비 오는 날 카페에서 우연히 다시 만난 두 동창생에 대한 짧은 단편 소설을 써 줘.`,
  `우리 학교 축제 포스터에 들어갈 짧은 시를 써 줘. 고등학생 느낌으로 밝고 설레게.`,
  `할머니 팔순 잔치에서 읽을 감동적인 편지 형식의 시를 써 줘.`,
  // stories in a classic author's manner
  `Écris un conte à la manière de Voltaire sur un jeune homme naïf qui découvre les réseaux sociaux.`,
  `Rédige une courte scène à la manière de Zola dans une boulangerie industrielle d'aujourd'hui.`,
  `Écris une nouvelle de deux pages dans le style de Maupassant sur un notaire de province qui trouve une lettre cachée.`,
  `Schreib eine kurze Erzählung im Stil von Thomas Mann über einen Kurgast, der sein Handy verliert.`,
  `Escribe un microrrelato al estilo de Cortázar sobre un ascensor que nunca se detiene en el mismo piso.`,
  `Scrivi un racconto breve alla maniera di Pirandello su un impiegato che scopre di avere un sosia in ufficio.`,
  `write a short story in the style of Chekhov about a tired dentist on the last day before his holiday`,
  // functional text rewritten as fiction
  `Rewrite this "About us" paragraph from our insurance company as hardboiled noir narration, first person, rain and all: "Since 1987, Hallmark Mutual has protected families across the Midwest with reliable coverage and personal service."`,
  `turn our office kitchen rules (wash your mug, label your food, no fish in the microwave) into a film noir voiceover`,
  `rewrite this product blurb for our dishwasher as a gothic horror narrator would tell it: "Quiet 42 dB operation, 14 place settings, eco program saves up to 20% water."`,
  `take our law firm's boring mission statement and rewrite it as an epic fantasy prophecy, for the Christmas party slideshow`,
  `rewrite the attached HR policy summary as a Shakespearean sonnet, it's for a joke leaving card`,
  // game writing: lore, codex, audio logs
  `Write a worldbuilding bible for the magic system of our indie RPG: where magic comes from, what it costs the caster, who can use it, the schools, the taboos, and how it shaped the last three centuries of history.`,
  `design the pantheon for our roguelike: 6 gods, what each one wants, their feuds, and a creation myth the priests tell`,
  `I need lore for the three factions of our strategy game: origins, beliefs, what they call each other, a famous betrayal`,
  `Write 7 journal entries (80–120 words each) found in a flooded research station. Read in order they should reveal what happened to the crew.`,
  `write 5 audio log transcripts for a derelict cargo ship in our sci-fi game, each under 150 words, that slowly reveal the captain's secret`,
  `10 item descriptions for our dungeon crawler, 2-3 sentences each, that together hint at the fall of the old king`,
  `write the in-game codex entries for 6 monsters in our game, about 90 words each, in the voice of a slightly unreliable scholar`,
  `write barks for a grumpy blacksmith NPC: 12 short lines for greeting, buying, selling and when the player leaves without buying`,
  `flavour text for 15 cards in our deckbuilder, one sentence each, themed around a drowned city`,
  `write the opening cutscene script for our platformer: a lighthouse keeper's daughter and a storm, 2 minutes, no dialogue longer than one line`,
  // stand-up, toasts, pun names
  `write a 5 minute stand-up set for my sister's 40th birthday party, she's a vet, married to a drummer, and has never been on time in her life`,
  `write a tight 3 minute comedy bit about parent-teacher evenings from the teacher's side`,
  `pun names for our pub quiz team, we are all paralegals`,
  `give me a punny name for my sourdough starter`,
  `name ideas for a board game cafe in a small town, cosy and a bit nerdy`,
  `punny names for a fantasy tavern run by a retired ogre`,
  // constrained forms and revisions
  `Write a sestina about a night ferry. End words: deck, lamp, salt, home, engine, dark.`,
  `write a villanelle about waiting for exam results`,
  `write a pantoum about my grandmother's kitchen, she made pierogi every Sunday`,
  `Full revision please, keep my voice, don't make it fancy:\n\nThe bus was late again. Tomek didnt care. He had the letter in his pocket and he kept touching it like it might dissapear. When the bus came he sat at the back where the heater was broke and he read it again even though he knew it by heart.`,
  `here's my story opening, rewrite it so it flows better but keep it sounding like me:\n\nMy brother left on a tuesday. Nobody cried which was weird because we cry at adverts. Mum made soup. Dad fixed the gate that didnt need fixing.`,
  `continue this for three more paragraphs and add a twist where the narrator turns out to be the house itself:\n\nThe Okafors moved in on the first warm day of April. The children ran through every room, opening doors I had kept closed for years.`,
  `write a drabble (exactly 100 words) about the last day of school from the janitor's point of view`,
  `write a choose-your-own-adventure for my year 7 class set in a haunted museum, 4 choices, 3 endings`,
  `write a funny poem for our senior partner's retirement, she loves sailing and hates passive voice`,
  `short detective story for the firm newsletter: who stole the good stapler from the third floor`,
  `write a dramatic monologue for a Year 10 drama exam, a girl waiting outside a hospital room, about 2 minutes`,
  `write a ballad about the Pied Piper but from the rats' side`,
  `invent a folk tale that explains why the river in our town runs backwards once a year`,
  `write a rap about photosynthesis for my biology class, catchy enough that they remember it`,
  `tell me a story about a penguin who works at a post office`,
  `You are a ghost haunting a lighthouse and I am the new keeper on my first night. Speak to me.`,
  `Play the ship's computer of a generation ship that has just woken me from cryosleep. I ask: "how long was I out?"`,
];

const REASONING: readonly string[] = [
  // molar masses and moles
  `molar mass of calcium carbonate?`,
  `what's the molar mass of ammonium sulfate`,
  `molar mass of C6H12O6, show the sum`,
  `how many moles are in 25 g of NaCl?`,
  `how many grams of CO2 come from burning 10 g of methane?`,
  `Jaka jest masa molowa kwasu siarkowego H2SO4?`,
  `Jaká je molární hmotnost ethanolu C2H5OH?`,
  `Ποια είναι η μοριακή μάζα του NaOH;`,
  `Mennyi a kénsav moláris tömege?`,
  `Care este masa molară a apei?`,
  `Wat is de molaire massa van zwavelzuur?`,
  `황산의 몰질량은 얼마야?`,
  `what is the pH of a 0.02 M HCl solution`,
  // Bayes in several languages
  `Test na boreliozę ma czułość 92% i swoistość 96%. Choroba dotyczy 3% osób w grupie. Jakie jest prawdopodobieństwo, że osoba z wynikiem dodatnim naprawdę jest chora?`,
  `Test má citlivost 90 % a specificitu 95 %, nemoc má 1 % populace. Jaká je pravděpodobnost, že pozitivně testovaný je opravdu nemocný?`,
  `Ένα τεστ έχει ευαισθησία 98% και ειδικότητα 94%. Η ασθένεια έχει επιπολασμό 0,5%. Ποια η πιθανότητα να είναι κάποιος άρρωστος αν βγει θετικός;`,
  `Egy teszt érzékenysége 85%, specificitása 97%, a betegség gyakorisága 4%. Mekkora az esélye, hogy a pozitív tesztű ember beteg?`,
  `어떤 검사의 민감도는 95%, 특이도는 90%이고 유병률은 2%야. 양성일 때 실제로 병이 있을 확률은?`,
  `Een test heeft een sensitiviteit van 88% en een specificiteit van 99%. 1 op de 200 mensen heeft de ziekte. Hoe groot is de kans dat een positieve test klopt?`,
  `a spam filter catches 97% of spam and wrongly flags 2% of normal mail. 30% of mail is spam. if a mail is flagged, what's the chance it's actually spam?`,
  // puzzles to solve
  `Our school newsletter had this puzzle: four friends (Ana, Ben, Cleo, Dev) each own a different pet (cat, dog, fish, parrot). Ana is allergic to fur, Ben's pet can talk, Cleo walks hers twice a day. Who owns what? please solve it`,
  `puzzle from the office quiz: a brick weighs 1 kg plus half a brick. how heavy is the brick? solve it and explain`,
  `My daughter brought home this riddle: I am a three-digit number, my digits add to 12, the hundreds digit is twice the ones digit and the tens digit is 4. What number am I? Please solve it.`,
  `the "two doors, two guards, one always lies" puzzle, but with three doors and three guards. what single question works? work it out`,
  `Zagadka z gazetki: ojciec jest 4 razy starszy od syna, za 20 lat będzie 2 razy starszy. Ile mają lat? Rozwiąż proszę.`,
  `Řešte: Tři krabice jsou špatně označené (jablka, hrušky, mix). Smíte vytáhnout jedno ovoce z jedné krabice. Jak je správně označíte?`,
  // proofs in several languages
  `Beweisen Sie bitte formal, dass die Folge a_n = (1 + 1/n)^n monoton wachsend und nach oben beschränkt ist.`,
  `Zeigen Sie, dass eine differenzierbare Funktion mit beschränkter Ableitung auf ℝ Lipschitz-stetig ist. Bitte mit vollständigem Beweis.`,
  `Beweisen Sie, dass jede konvergente Folge beschränkt ist.`,
  `수열 a_n = (2n+1)/(n+3)이 2로 수렴함을 엡실론-N 정의로 증명해 주세요.`,
  `조화급수 1 + 1/2 + 1/3 + ... 이 발산함을 증명하고, 부분합이 대략 ln n 만큼 자란다는 것도 보여 주세요.`,
  `Udowodnij, że √3 jest liczbą niewymierną.`,
  `Udowodnij indukcyjnie, że 7^n − 1 jest podzielne przez 6 dla każdego n naturalnego.`,
  `Απόδειξε ότι υπάρχουν άπειροι πρώτοι αριθμοί.`,
  `Bizonyítsd be teljes indukcióval, hogy 1 + 3 + 5 + ... + (2n−1) = n².`,
  `Demonstrați că șirul x_n = 1/1² + 1/2² + ... + 1/n² este convergent.`,
  `Bevis at summen af to ulige tal altid er lige, og forklar hvert skridt.`,
  `Bewijs dat de wortel van 2 irrationaal is, stap voor stap.`,
  `Bevisa att en funktion som är deriverbar i en punkt också är kontinuerlig där.`,
  `Dokažte, že součin dvou po sobě jdoucích celých čísel je vždy sudý.`,
  `prove that a continuous function on [0,1] attains its maximum, full rigorous proof please`,
  `show that lim (n→∞) n^(1/n) = 1, with all the steps`,
  // calculations in several languages
  `Auto jede 90 km/h a musí ujet 315 km. Za jak dlouho tam bude, když si udělá 20 minut pauzu?`,
  `Kredyt 300 000 zł na 25 lat, oprocentowanie 7,5% rocznie. Ile wyniesie rata równa?`,
  `Πόσο θα γίνουν 5.000 ευρώ σε 8 χρόνια με ετήσιο τόκο 4% ανατοκιζόμενο;`,
  `Egy 24 fős osztályból hányféleképpen lehet 3 fős küldöttséget választani?`,
  `Hvor lang tid tager det at fordoble et beløb ved 6 % årlig rente? Vis udregningen.`,
  `Beräkna sannolikheten att få minst två sexor på fem kast med en tärning.`,
  `Dacă un produs costă 240 lei după o reducere de 20%, cât costa inițial?`,
  `연 5% 복리로 1000만 원을 10년 두면 얼마가 되는지 계산해 줘`,
  // counter-examples: money and studio questions that ask for the calculation
  `calculate how many copies our game must sell at 19.99 to recoup a 250k budget if Steam takes 30% and VAT averages 15%`,
  `publisher offers 400k advance, recoup at 100% then 50/50. at 20 dollars net per copy, at how many copies do we earn more than self-publishing at 70%? work it out`,
  `mortgage of 280k at 4.2% over 30 years: what's the monthly payment, and how much interest do I save by paying 200 extra a month?`,
  `I pay off a 15,000 loan at 8%, how much interest in total if I take 3 years vs 5 years?`,
  `our school trip: coach hire 1,450, museum 9 per student, 3 teachers free. with 52 students, what must each student pay to break even? show it`,
  `a 6-person studio burns 38k a month. with 210k in the bank and 12k a month from the last game, how many months until we run out? and with one hire more at 5k?`,
  `if a solar panel system costs 9,800 and saves 95 a month, after how many years does it pay for itself at 3% a year electricity price rise? calculate`,
  `Combien faut-il épargner par mois à 4 % pour avoir 100 000 € dans 20 ans ? Montre le calcul.`,
  `Wie hoch ist die Monatsrate für einen Kredit über 20.000 € zu 5 % bei 5 Jahren Laufzeit? Bitte mit Rechenweg.`,
  `¿Cuánto pagaré de intereses en total por un préstamo de 12.000 € al 7 % a 4 años?`,
];

const CODING: readonly string[] = [
  // Home Assistant, with entity ids
  `Home Assistant automation: when device_tracker.anna_phone and device_tracker.ben_phone are both not_home, turn off light.living_room and light.kitchen and set climate.hallway to 17`,
  `HA yaml please: if binary_sensor.back_door opens after 23:00 and alarm_control_panel.home is armed_night, flash light.bedroom red 3 times`,
  `automation for input_boolean.guest_mode: when on, disable the automation that turns off light.guest_room at midnight`,
  // Postgres with row counts and planner estimates
  `Postgres: orders has 48M rows, customers 220k. This query filters orders by status = 'open' and created_at > now() - interval '7 days', and EXPLAIN estimates 40 rows but gets 310k. Which index should I add, and why is the estimate so far off?`,
  `explain analyze shows a seq scan on events (120M rows) even though I have an index on (tenant_id). tenant 17 has 60% of the rows. why does the planner skip the index and what should I change?`,
  `the planner picks a nested loop and it takes 40s; rows=12 estimated vs rows=900000 actual on the join with line_items. would extended statistics on (order_id, sku) help? how do I create them?`,
  `should this be a partial index or a composite one? 95% of tickets are closed and we only ever query open ones by assignee_id`,
  // coding asks in Chinese, Japanese, Korean and other languages
  `用Go实现一个并发安全的LRU缓存，支持TTL过期，并写单元测试。`,
  `用Rust写一个Redis客户端的封装，带连接池、超时和自动重连。`,
  `帮我用Python写一个爬虫，限制每个域名每秒最多2个请求，失败时指数退避重试。`,
  `Goで複数のAPIに並列でリクエストを送り、最初に成功したレスポンスだけ返す関数を書いてください。`,
  `파이썬으로 CSV 파일을 읽어서 월별 매출 합계를 구하고 엑셀로 저장하는 스크립트 짜줘`,
  `자바스크립트에서 debounce 함수 직접 구현해 줘, 타입스크립트 타입도 같이`,
  `Napisz w Pythonie funkcję, która sprawdza poprawność numeru PESEL, z testami.`,
  `Napiš v JavaScriptu funkci, která ověří české rodné číslo, včetně kontrolní číslice.`,
  `Γράψε ένα script σε Python που μετονομάζει όλες τις φωτογραφίες σε έναν φάκελο με βάση την ημερομηνία λήψης.`,
  `Írj egy bash scriptet, ami minden éjjel tömöríti a /var/log könyvtárat és törli a 30 napnál régebbi archívumokat.`,
  `Scrie o funcție în C# care validează un CNP românesc.`,
  `Skriv en SQL-forespørgsel der finder de 10 kunder med størst omsætning i 2023.`,
  `Schrijf een Python-functie die een IBAN controleert op de juiste controlecijfers.`,
  `Skriv ett PowerShell-skript som listar alla AD-användare som inte loggat in på 90 dagar.`,
  // game studio and school code
  `Unity C#: my character controller slides down slopes even when standing still. here's the Update method, what's wrong?`,
  `Godot 4: how do I save and load the player's inventory to a JSON file in GDScript?`,
  `write a dialogue system in Lua for our game: nodes, choices, conditions based on flags`,
  `shader question: how do I do a dissolve effect in a URP shader graph with an edge glow?`,
  `write a python program for my students that quizzes them on capital cities and keeps score`,
  `excel formula to give a grade letter from a percentage: 90+ A, 80+ B, 70+ C, else F`,
  `what's the difference between a process and a thread, short answer`,
  `why does my Go program deadlock when all goroutines write to an unbuffered channel?`,
  // counter-examples: games as programs, short programming questions, bare errors
  `write a simple pong game in javascript that I can play in the browser, two paddles, keyboard controls`,
  `make a tetris clone in pygame, keep it in one file`,
  `code a text adventure game in python with rooms, an inventory and a save command`,
  `build a memory card game in react for my students, 16 cards, count the moves`,
  `does Java pass objects by reference or by value?`,
  `is javascript single threaded? then how does async work`,
  `what's the time complexity of quicksort and why is the worst case n squared?`,
  `serial or uuid for primary keys in MySQL, what do you recommend?`,
  `when should I use a set instead of a list in python?`,
  `error: failed to push some refs to origin`,
  `fatal: not a git repository (or any of the parent directories): .git`,
  `ModuleNotFoundError: No module named 'numpy' but I installed it`,
  `how do I see which process is using port 8080 on linux?`,
  `explain how JWT authentication works in an Express app and show the middleware`,
  `what's the difference between == and === in javascript, quick`,
  `Co to jest wskaźnik w C? Pokaż prosty przykład.`,
  `포인터랑 참조의 차이가 뭐야? C++ 예제로 설명해 줘`,
  `Comment écrire une requête SQL qui donne le chiffre d'affaires par semaine pour 2023 ?`,
  `Wie schreibe ich eine SQL-Abfrage, die pro Kunde die letzte Bestellung anzeigt?`,
  `¿Cómo hago una consulta SQL que cuente usuarios activos por día?`,
  `regex that matches UK phone numbers starting with 07 and 11 digits total`,
  `git: how do I merge two repos that have no common history?`,
];

const GENERAL: readonly string[] = [
  // cooking and home
  `how long should I rest a steak after it comes off the pan?`,
  `what temperature and how long for roast potatoes so they're crispy?`,
  `how do I know when banana bread is done without a skewer?`,
  `can I freeze cooked rice and how long does it keep?`,
  `Jak dlouho se vaří brambory na kaši?`,
  `Jak długo gotować jajko na miękko?`,
  `Πόση ώρα θέλει το κοτόπουλο στον φούρνο στους 200 βαθμούς;`,
  // meeting notes and functional writing
  "Turn these meeting notes into action items with owners and due dates:\n\n```\nsprint review 14/3\n- build for steam next fest must be ready by 2 may (Kasia)\n- trailer: music licence still open, Tom to call the label\n- localisation PL/DE: quotes from 2 agencies, decide by friday (me)\n- playtest feedback: level 3 too hard, Oskar to tweak\n```",
  "Can you make a clean list of decisions and who does what from this?\n\n```\npartners meeting\n- new client intake form: Maria drafts by 20th\n- renew Westlaw sub? yes, 2 yrs\n- office party 12 Dec, budget 3k, Julia books venue\n- printer on 2nd floor broken again, call vendor (reception)\n```",
  "summarise this parents' evening feedback into 3 points for the head of year:\n\n```\nmost parents happy with maths setting\nseveral complaints about homework on weekends\nrequests for earlier report dates\ncanteen queue too long, 3 mentions\n```",
  `turn my messy notes from the client call into a short follow-up email with next steps: they want the lease reviewed by Friday, disagree on the break clause, and need an estimate of our fees`,
  `write a polite email to parents reminding them the school trip to the science museum costs 18 pounds and is due by Friday`,
  `draft a reply to a client who is asking why our invoice has 6.5 hours for a one-page letter`,
  // literature discussion (general, not creative)
  `what is the main theme of Dulce et Decorum Est and how does Owen use imagery to show it?`,
  `analyse the tone of "Do not go gentle into that good night" for my essay, what is the speaker feeling?`,
  `what does the rope symbolise in Of Mice and Men?`,
  `Co autor chciał powiedzieć w "Kamieniach na szaniec"? Główne motywy w punktach.`,
  `Jaké jsou hlavní motivy v Máchově Máji? Potřebuju to na rozbor.`,
  `why is the Wasteland considered modernist? explain for a year 12 student`,
  // office, studio and school decisions with numbers
  `I'm the office manager at a 180-person law firm. We have 120 desks, most people come in Tuesday to Thursday, and the kitchen gets crowded at lunch. How should we organise desks and lunch breaks?`,
  `We're a 12-person games studio with 38k wishlists and about 9 months of runway. A publisher offers 400k for 35% of revenue until recoup. What should we think about before signing?`,
  `We're a 5-person studio, 20k wishlists, launching in October. Should we do early access or wait for 1.0? Pros and cons please.`,
  `our office of 45 people has one printer per floor and they always jam. is it worth switching to a managed print service? what should I ask vendors?`,
  `I run IT for a school with 600 students and 60 staff. Should we go with Chromebooks or iPads for year 7? Budget is around 250 per device.`,
  `we have 14 lawyers and 6 support staff, and people complain about the open plan noise. what are our options that don't cost a fortune?`,
  `Our small firm has 25 employees and no HR person. What policies do we need to have written down at minimum?`,
  // funding applications and reports
  `Write the narrative section of our application to the regional arts council: a youth theatre project for 40 teenagers in a former mining town, 12 weeks, ending in a public performance.`,
  `help me write the "project description" part of a grant application for a community mural with local primary schools, budget 8,000 euros`,
  `write the "impact" section for our funding bid: a free coding club for girls aged 11-14, 3 schools, 60 places`,
  `draft the artist statement for my application to a printmaking residency, my work is about post-industrial landscapes`,
  // law office and school
  `what is the difference between a solicitor and a barrister?`,
  `how long do we need to keep client files after a matter closes, in the UK?`,
  `explain what "without prejudice" means on a letter`,
  `how do I explain the causes of the First World War to a year 9 class in 15 minutes?`,
  `give me a lesson plan outline for teaching persuasive writing to 13 year olds, 50 minutes`,
  `my son (15) says he wants to quit piano after 8 years. should I let him?`,
  `what should I pack for a 4 day school trip to Krakow in March?`,
  // general asks in the new languages
  `Jaké jsou nejlepší výlety z Prahy na jeden den vlakem?`,
  `Jak napisać skargę do spółdzielni mieszkaniowej na hałas sąsiadów? Co powinno się w niej znaleźć?`,
  `Ποια είναι τα καλύτερα νησιά για οικογένειες με μικρά παιδιά;`,
  `Milyen papírok kellenek az útlevél megújításához?`,
  `Ce acte îmi trebuie pentru a-mi schimba buletinul în București?`,
  `Hvad skal man huske, når man sælger sin lejlighed i København?`,
  `Hoe vraag ik een huurtoeslag aan en wanneer krijg ik het geld?`,
  `Vad är skillnaden mellan en bostadsrätt och en hyresrätt?`,
  `한국에서 전세와 월세 중 뭐가 더 나은지 장단점 알려줘`,
  `서울에서 부모님 모시고 가기 좋은 조용한 식당 추천해 줘`,
  // recommendations and more ("another like that" after recommendations stays general)
  `any novels like Kazuo Ishiguro's, quiet and sad but beautiful?`,
  `good games for a 10 year old who liked Minecraft but wants something with a story?`,
  `what's a good gift for a colleague who is leaving, around 30 euros?`,
  `what does a narrative designer actually do at a game studio?`,
  `how do I ask my manager for a four-day week without sounding lazy?`,
  // counter-examples: short explanations and chit-chat stay general
  `explain the offside rule in football`,
  `why is the sky red at sunset?`,
  `how do tides work?`,
  `what is inflation, in simple words?`,
  `what was the Cold War about?`,
  `what is the golden ratio and why do people say it's in art?`,
  `hey, how's your day going?`,
  `I'm stressed about my exams next week`,
  `why do cats purr?`,
  `what is a black hole?`,
  `write a job ad for a receptionist at our law firm, 4 days a week, in Leeds`,
  `write a job description for a junior level designer at a 15-person game studio`,
  `Co to jest inflacja? Wyjaśnij prosto.`,
  `Τι είναι η φωτοσύνθεση; Εξήγησέ το απλά για παιδί.`,
  `Hoe werkt de Nederlandse Tweede Kamer?`,
  `블랙홀이 뭔지 쉽게 설명해 줘`,
];

export const TRAFFIC_ROUND8: Record<Category, readonly string[]> = {
  coding: CODING,
  reasoning: REASONING,
  creativity: CREATIVITY,
  general: GENERAL,
};

/** Multi-turn conversations: the follow-up decides. */
export const TRAFFIC_ROUND8_MULTI_TURN: readonly LabelledConversation[] = [
  // creativity: short follow-ups in a creative exchange
  c('creativity', u('write a limerick about my dentist, he hums while he drills'), a('There once was a dentist named Lee / who hummed every drill-song with glee... (limerick)'), u('haha. one about a plumber now')),
  c('creativity', u('we need a team name for the office bowling league'), a('How about "Split Happens", "Pin Pals" or "The Gutter Minds"?'), u('just one name, something with a legal pun, we are all lawyers')),
  c('creativity', u('write a haiku about the first frost'), a('White breath on the glass / the garden keeps its secrets / under a thin crust'), u('another like that but about the first thaw')),
  c('creativity', u('write a story about a girl who finds a door in the school library that wasn\'t there yesterday'), a('The door was green and small, tucked between Geography and Poetry... (story)'), u('continue it for another 2 paragraphs and add a twist: the librarian already knows')),
  c('creativity', u('I have to write a sestina for my creative writing module'), a('A fun form! Six stanzas of six lines plus a three-line envoi, with the same six end words rotating. Do you have end words and a subject?'), u('end words: harbour, salt, letter, bell, winter, hands. subject: my grandad leaving Gdańsk in 1981')),
  c('creativity', u('can you help with my short story for a competition?'), a('Of course. Paste it and tell me what kind of help you want.'), u('full revision please, keep my voice:\n\nIt was raining when Dad sold the boat. I watched from the car. He shook the mans hand and didnt look back, which was how I knew it mattered.')),
  c('creativity', u('my best mate is getting married in June and I\'m best man'), a('Congratulations! Is the speech the worry, or the stag?'), u('the speech. he is a vet, they met at a pub quiz, he once got stuck in a cow shed. write me a 4 minute set')),
  c('creativity', u('we are doing a company retreat and I\'m hosting the evening'), a('Nice! What kind of crowd, and what do you want the evening to feel like?'), u('40 people, games studio, lots of in-jokes about crunch. write me 5 minutes of stand-up to open it')),
  c('creativity', u('write a rap verse about being the youngest in my family'), a('Born last in line, hand-me-downs on my spine... (verse)'), u('another verse, same flow, about sharing a room')),
  c('creativity', u('write a toast for my parents\' 30th anniversary'), a('Thirty years ago, two people made a promise... (toast)'), u('make it punchier, it\'s too long')),
  c('creativity', u('write 4 codex entries for our game about the ruined city of Vel, about 100 words each'), a('1. The Salt Gate... 2. The Bellhouse... 3. ... 4. ... (entries)'), u('now 3 more for the northern ruins, same voice')),
  c('creativity', u('I need an NPC for my D&D session, a shady merchant in a swamp town'), a('A wiry half-elf who sells "lightly haunted" goods from a boat, always smiling, never blinking... (description)'), u('give him a name, something memorable')),
  c('creativity', u('write a chorus for a song about leaving my hometown'), a('So long to the streetlights, so long to the rain... (chorus)'), u('now a bridge')),
  c('creativity', u('Napisz krótki wiersz o jesieni w Krakowie'), a('Liście na Plantach, / mgła nad Wisłą... (wiersz)'), u('jeszcze jeden, ale o zimie')),
  c('creativity', u('Napiš krátkou pohádku o medvídkovi, který nemůže usnout'), a('Byl jednou jeden medvídek jménem Brumla... (pohádka)'), u('a teď pokračování, jak šel na jaře poprvé k řece')),
  c('creativity', u('바다에 대한 짧은 시 써 줘'), a('파도는 오래된 편지처럼 / 해변에 같은 말을 되풀이한다... (시)'), u('하나 더 써줘, 이번엔 겨울 바다로')),
  c('creativity', u('Schrijf een Sinterklaasgedicht voor mijn zus, ze is altijd te laat'), a('Sint zag het al jaren met lede ogen aan... (gedicht)'), u('nog eentje voor mijn broer, hij speelt de hele dag FIFA')),
  c('creativity', u('Γράψε μια μικρή ιστορία για ένα κορίτσι που βρίσκει ένα μαγικό κοχύλι'), a('Η Ελένη βρήκε το κοχύλι το πρωί... (ιστορία)'), u('συνέχισε την ιστορία')),
  c('creativity', u('write a fairy tale about a fox and a crow for my 5 year old'), a('Once upon a time, a crow named Pip had the shiniest button in the forest... (tale)'), u('make the ending happier, she cried')),
  c('creativity', u('we\'re building an escape room, write a riddle for the first lock'), a('I have keys but open no doors, I have space but no room... (riddle)'), u('another one, harder, the answer should be "clock"')),
  c('creativity', u('write a monologue for the villain of our game, a tired queen who floods her own kingdom'), a('You think I wanted the water? ... (monologue)'), u('darker. and shorter')),
  c('creativity', u('name ideas for our new kitten, she\'s ginger and dramatic'), a('Saffron, Drama Llama, Clementine, Sunny, Tangerina'), u('more, but food themed')),
  c('creativity', u('write a short poem in the style of Emily Dickinson about a phone charger'), a('I plugged my Hope into the Wall — / and waited for the Light... (poem)'), u('one more in that style? about a lost sock')),
  c('creativity', u('write a slogan for our board game cafe'), a('"Roll in, stay late."'), u('something punny instead')),
  c('creativity', u('write the opening paragraph of a cosy mystery set in a Danish bakery'), a('Nobody in Skagen had ever seen Mrs. Holm close the bakery before noon... (opening)'), u('keep going, introduce the detective')),
  c('creativity', u('write a short poem about the last day of exams'), a('Pens down, windows open, / summer leaking through the blinds... (poem)'), u('can you do a version from the teacher\'s side?')),
  // coding: short follow-ups that keep the task coding
  c('coding', u('can you write a home assistant automation that turns the lights off when everyone has left?'), a('Sure. Which device trackers and which lights should it use?'), u('device_tracker.marta_pixel, device_tracker.jonas_iphone, light.living_room, light.hall, light.kitchen_spots')),
  c('coding', u('I want my heating to go down when nobody is home'), a('A Home Assistant automation with a zone or device tracker trigger can do that. What are your entity ids?'), u('person.eva and person.karl, climate.living_room, 16 when away, 21 when back')),
  c('coding', u('our orders report query got really slow this week'), a('Can you share the query and the EXPLAIN ANALYZE output, and roughly how many rows the tables have?'), u('orders 52M rows, order_items 180M, the filter is on shop_id and created_at. estimate says 150 rows, actual 2.1M. which index should I add and why is the estimate so wrong?')),
  c('coding', u('why would postgres ignore my index?'), a('Usually because the planner thinks a sequential scan is cheaper: low selectivity, stale statistics, or a type mismatch. What does the query look like?'), u('WHERE lower(email) = $1 and the index is on email. table has 3M rows')),
  c('coding', u('write a python function that validates a Dutch postcode'), a('def is_valid_postcode(s): return re.fullmatch(r"[1-9][0-9]{3} ?[A-Z]{2}", s.upper()) is not None'), u('one more test case, for lowercase with no space')),
  c('coding', u('write a Go HTTP client wrapper with retries'), a('Here is a Client type with a Do method that retries on 5xx with exponential backoff... (code)'), u('能不能再加上每个host的并发限制和令牌桶限流？')),
  c('coding', u('write a bash script to back up my photos folder to the NAS'), a('rsync -av --delete ~/Pictures/ nas:/backup/pictures/ ... (script)'), u('now the same for Documents, and log to a file')),
  c('coding', u('my unity player jumps twice sometimes'), a('Probably the jump input is read in FixedUpdate; read it in Update and consume it once. Can you show the script?'), u('here: void FixedUpdate() { if (Input.GetButtonDown("Jump") && grounded) rb.AddForce(Vector3.up * 5, ForceMode.Impulse); }')),
  // reasoning: short follow-ups that keep the calculation or the proof
  c('reasoning', u('a test has 90% sensitivity and 95% specificity, prevalence is 1%. chance that a positive is real?'), a('P(D|+) = 0.9·0.01 / (0.9·0.01 + 0.05·0.99) = 0.009 / 0.0585 ≈ 15.4%.'), u('and with a 10% prevalence?')),
  c('reasoning', u('prove that the sum of the first n cubes is (n(n+1)/2)^2'), a('By induction: for n = 1 both sides are 1; assume it for n and add (n+1)^3 ... (sketch)'), u('I get lost where you factor out (n+1)^2, can you write the whole proof properly with every step?')),
  c('reasoning', u('show that sqrt(n+1) - sqrt(n) goes to 0'), a('Multiply by the conjugate: sqrt(n+1) − sqrt(n) = 1/(sqrt(n+1) + sqrt(n)) ≤ 1/(2 sqrt(n)) → 0.'), u('why is that inequality true? write it as a rigorous epsilon-N proof')),
  c('reasoning', u('molar mass of sodium bicarbonate?'), a('NaHCO3: 22.99 + 1.01 + 12.01 + 3·16.00 = 84.01 g/mol.'), u('and how many moles in 21 g of it?')),
  c('reasoning', u('if we sell 3,000 copies at 15 dollars and Steam takes 30%, what do we get?'), a('3,000 × 15 = 45,000; after 30%: 31,500 dollars.'), u('and after 20% VAT on top of that and a 5% refund rate?')),
  c('reasoning', u('Wie viele Möglichkeiten gibt es, 4 Bücher aus 10 auszuwählen?'), a('C(10,4) = 210.'), u('und wenn die Reihenfolge zählt?')),
  c('reasoning', u('we borrow 18,000 at 6.5% over 5 years for a van'), a('The monthly payment is about 352, and total interest about 3,130.'), u('ok and the total interest if the rate were 8.9%?')),
  c('reasoning', u('how much will 10k grow to at 5% a year over 15 years?'), a('10,000 × 1.05^15 ≈ 20,789.'), u('how many years until it triples?')),
  // general: short follow-ups that keep the conversation general
  c('general', u('what\'s a good way to cook asparagus?'), a('Roast it at 220°C with olive oil and salt for 10–12 minutes, or blanch it for 2–3 minutes.'), u('ok, and how long do I boil eggs to go with it, I want them jammy')),
  c('general', u('making shakshuka tonight'), a('Great choice! Do you have everything you need?'), u('yes. how long do the eggs need in the sauce so the yolk stays soft?')),
  c('general', u('we are reading Dulce et Decorum Est in class'), a('It is a powerful poem. Owen contrasts the propaganda of war with the gas attack he describes.'), u('why does he end with the Latin line, is it sarcastic?')),
  c('general', u('can you help me analyse "The Road Not Taken" for my essay?'), a('Sure. A common reading is that the speaker later claims the choice made "all the difference", although both roads were about the same.'), u('so is the poem ironic? what evidence in the text?')),
  c('general', u('can you recommend some novels like Never Let Me Go?'), a('Try Klara and the Sun, The Remains of the Day, Station Eleven and The Buried Giant.'), u('one more in that style?')),
  c('general', u('can you write an email to the landlord about the broken heating?'), a('Dear Mr. Novak, I am writing to let you know the heating in flat 4 has not worked since Monday... (email)'), u('shorter please, and a bit firmer')),
  c('general', u('I\'m the office manager for a firm of 180 people'), a('Great, what can I help you with?'), u('we have 110 desks and Tuesdays everyone comes in. how do I fix that without making people angry?')),
  c('general', u('our studio got a publisher offer'), a('Congratulations! What are the terms and what is your situation?'), u('50k wishlists, 7 months of money left, they offer 300k recoup then 50/50. should we take it or self-publish?')),
  c('general', u('I have to apply for an arts grant for our community choir'), a('Happy to help. Which funder, and which sections do you need?'), u('the narrative section: 35 singers, mostly retired, we want to record an album of local folk songs')),
  c('general', u('write a haiku about my garden'), a('Tomatoes blushing / the bees argue with the wind / I forget the time'), u('lovely. when should I plant garlic for next year?')),
];

/** Single asks under a system prompt. */
export const TRAFFIC_ROUND8_SYSTEM_PROMPTED: readonly LabelledConversation[] = [
  c('creativity', s('You are a helpful assistant for a games studio.'), u('write 6 short lore fragments carved on tombstones in our graveyard level')),
  c('general', s('You are a helpful assistant for a law firm.'), u('turn these notes into action items with owners: Anna drafts the NDA, Piotr calls the client Monday, I check the deadline')),
  c('reasoning', s('You are a helpful assistant for a secondary school.'), u('molar mass of magnesium chloride? show the working')),
  c('coding', s('You are a helpful assistant.'), u('light.porch and binary_sensor.driveway_motion, only at night please')),
];

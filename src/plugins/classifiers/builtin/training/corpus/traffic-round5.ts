/**
 * A fifth round of real-traffic prompts, written one by one for the borders where the fourth
 * independent evaluation went wrong (described to the writer as error patterns, items not seen):
 *
 * - creativity in German, French, Spanish, Portuguese and Italian (short stories of about N words,
 *   rhyming poems for children, song lyrics about a city, tales in an author's style, inner
 *   monologues), and creative asks with formal constraints (sestina, lipogram, choose-your-own-adventure
 *   with N decision points, concept albums, satire in the style of a classic essay, strict rhyme
 *   schemes and refrains); numbers inside a creative ask (word and line counts) do not make it math;
 * - general advice and functional writing full of numbers (emergency funds, retirement matches, small
 *   business viability, job offers, hardware buying, recipes for a crowd, kitchen conversions, product
 *   descriptions, grant applications, tenancy questions, causes of historical events for a talk);
 * - general asks that mention programming (career changes, "python or javascript first", translating
 *   a code comment, a negotiation phone script, philosophy after a tech chat);
 * - reasoning asked in prose (argument analysis and fallacies, Fermi estimates, logic puzzles told as
 *   stories, lower-bound arguments, amortised bounds over pseudo-code, birthday problems, reading an
 *   A/B test, unit arithmetic in other languages);
 * - coding that was missed (leaving vim, extending a regex, firewall and reverse-proxy rules for a LAN
 *   and a VPN subnet, system design on a distributed database);
 *
 * each with counter-examples from the other side of the border (money word problems that are math,
 * code with German comments, creative asks in English with numbers, programs that generate poems).
 * Plus multi-turn conversations where the follow-up decides and a few asks under a system prompt.
 * Like the other traffic files, all of it trains (outside the hash split).
 */
import type { Category, ChatMessage } from '../../../../../plugin-api/index.js';
import { a, c, s, u, type LabelledConversation } from './traffic-conversations.js';


const CREATIVITY: readonly string[] = [
  // German
  'Schreib mir eine Kurzgeschichte von etwa 600 Wörtern über einen Leuchtturmwärter, der zum letzten Mal das Licht anschaltet',
  'ein gereimtes Gedicht für meine Tochter (4) über einen Igel, der nicht einschlafen kann, höchstens 12 Zeilen',
  'Liedtext über Hamburg im Nieselregen, zwei Strophen und ein Refrain, eher melancholisch',
  'Schreibe ein Märchen im Stil der Brüder Grimm über eine Müllerstochter und einen sprechenden Brunnen',
  'Erzähl Rotkäppchen als inneren Monolog der Großmutter, so um die 300 Wörter',
  'Verfasse eine Ballade in 8 Strophen über den Untergang eines Fischkutters in der Nordsee',
  'Schreib einen Poetry-Slam-Text über Montagmorgen in der überfüllten S-Bahn',
  'Dichte ein Geburtstagsgedicht für meinen Opa, der 80 wird und leidenschaftlich angelt, vier Strophen mit Kreuzreim',
  'Eine Gutenachtgeschichte mit 5 kurzen Kapiteln über ein Eichhörnchen, das seine Nüsse vergessen hat',
  'Schreibe eine Szene im Stil von Kafka: ein Mann wartet seit 3 Tagen im Flur einer Behörde auf seine Nummer',
  // French
  "Écris une nouvelle d'environ 800 mots sur une boulangère qui trouve une lettre cachée dans un sac de farine",
  'un poème qui rime pour un enfant de 6 ans sur un escargot qui veut voir la mer',
  "Écris les paroles d'une chanson sur Marseille, avec un refrain qui revient trois fois",
  'Raconte une histoire à la manière de Maupassant sur un notaire de province ruiné par le jeu',
  "le monologue intérieur d'une vieille horloge dans une gare abandonnée, 250 mots environ",
  'Écris un conte de Noël en 5 petits chapitres pour ma classe de CE2',
  'Fais-moi un sonnet en alexandrins sur la Loire au petit matin',
  'Invente une fable à la façon de La Fontaine avec une morale sur les réseaux sociaux',
  // Spanish
  'Escribe un relato de unas 500 palabras sobre un pescador de Cádiz que encuentra una botella con un mensaje',
  'un poema con rima para mi sobrino de 5 años sobre un dragón que tiene miedo a las tormentas',
  'letra de una canción sobre Buenos Aires de noche, estilo tango, dos estrofas y estribillo',
  'Escribe un cuento al estilo de García Márquez sobre un pueblo donde nunca deja de llover',
  'monólogo interior de una maleta olvidada en la cinta del aeropuerto',
  'Inventa una leyenda sobre el origen de las estrellas fugaces para contarla en un campamento de verano',
  'Escribe diez greguerías al estilo de Ramón Gómez de la Serna sobre objetos de cocina',
  'un microrrelato de 100 palabras exactas sobre una abuela que aprende a usar el móvil',
  // Portuguese
  'Escreve um conto de cerca de 400 palavras sobre uma avó que ensina o neto a fazer pão',
  'um poema rimado para uma criança de 3 anos sobre um gato que queria voar',
  'letra de música sobre Lisboa ao entardecer, estilo fado, três estrofes',
  'Escreva uma crônica no estilo de Rubem Braga sobre o barulho da chuva num domingo à tarde',
  'Conta-me uma história de terror curta passada num farol dos Açores, com final aberto',
  'escreve um cordel de 6 estrofes sobre um vaqueiro que perdeu o seu cavalo',
  // Italian
  'Scrivi un racconto di circa 700 parole su un tram di Milano che una notte cambia percorso',
  'una filastrocca in rima per un bambino di 4 anni sui giorni della settimana',
  'testo di una canzone su Napoli d’estate, con ritornello, tono allegro',
  'Scrivi una novella alla maniera di Calvino su una città fatta solo di scale',
  "monologo interiore di un gondoliere nel suo ultimo giorno di lavoro, circa 200 parole",
  "Scrivi un sonetto in endecasillabi sull'attesa di una lettera che non arriva",
  'escreve um poema curto sobre o mar de inverno',
  'scrivi una canzone malinconica sul treno della notte',
  'Ein kurzes Gedicht über Kaffee am Morgen, bitte mit Reim',
  // formal constraints, in English
  'write a sestina about a lighthouse with the end words salt, lamp, keeper, storm, glass, return. rotate them properly through the six stanzas and finish with the envoi',
  'a paragraph about a summer picnic written as a lipogram: no letter e anywhere',
  'choose your own adventure story set in a sunken city, 4 decision points and 3 different endings, mark the choices clearly',
  'concept album for an indie folk band about one year on a fishing island: 10 track titles in order, one line about each, and full lyrics for tracks 1 and 6',
  'write a satire in the style of a modest proposal suggesting that cities solve their pigeon problem by giving pigeons seats on the council',
  'villanelle about moving out of your childhood home, keep both refrains alternating exactly as the form requires',
  'acrostic poem where the first letters spell GRANDMA, about her vegetable garden',
  'a story of exactly 50 words about a missed train',
  'give me 12 six-word memoirs for famous fictional characters',
  'write a ghazal in 7 couplets about the monsoon, with "tonight" as the repeated radif',
  'write a pantoum about the house we sold last spring',
  'a story in 26 sentences, each starting with the next letter of the alphabet, about a lost dog finding its way home',
  'four haiku, one per season, strictly 5-7-5, all about the same apple tree',
  'a cycle of 5 limericks that together tell the story of a disastrous camping trip',
  'a 250 word piece of flash fiction about a wedding photographer who notices the same stranger in every picture',
  'write a rondeau about the first snowfall with the opening words coming back as the refrain',
  'a story in second person, present tense, around 1000 words: someone wakes up in a hospital with no memory',
  'write a comedic 2 minute audition monologue for a woman returning a wedding dress',
  'write a triolet about a cat on a windowsill in the rain',
  'a double dactyl about napoleon',
  'a story where each sentence has one word more than the one before, starting with a single word, about a rocket launch',
  'epistolary short story in 6 letters between a lighthouse keeper and a baker over one year',
  'lyrics for a 3 minute pop song about a summer job at an ice cream stand: verse, chorus, verse, chorus, bridge, chorus',
  'a track list of 12 songs for a fictional breakup album, with one line of lyric from each track',
  'parody of stopping by woods on a snowy evening about stopping at a drive-thru at 2 am',
  'a satirical mock news article about a town council that votes to abolish mondays',
  "satire in the manner of gulliver's travels: a voyage to an island where everyone is ruled by their calendar apps",
  "retell rumpelstiltskin from the miller's point of view in about 400 words",
  "a drabble (exactly 100 words) about a beekeeper's last harvest",
  'retell jack and the beanstalk as a hard-boiled noir in 3 short scenes',
  'an abecedarian poem about the ocean, one line per letter',
  'a counting rhyme from one to ten with farm animals for toddlers',
  'write a poem in terza rima about climbing a mountain at night',
  'a scene told only in dialogue, no tags at all, between a ghost and a real estate agent',
  "a sonnet about my father's old tools where the volta in line 9 turns from grief to gratitude",
  'a 5 minute radio play scene for 3 voices set in a lift stuck between the 7th and 8th floor',
  'a poem whose lines get shorter and shorter, like a candle burning down',
  'three different 2-sentence horror stories about a baby monitor',
  'a song in the style of a 1960s motown hit about a bus driver on the night route',
  'rewrite the opening of pride and prejudice as a 280 character tweet thread of 4 tweets',
  'an interactive story for a kids party: 3 choices, each leading to a silly ending, about a runaway birthday cake',
  'a 14 line poem about the tram to the hospital where every line ends with the same word: wait',
  // creative follow-ups that stand on their own
  'continue the story, but make the twist that the narrator was the thief all along',
  'just give me a name for the tavern, nothing else',
  'one more name for the ship, something older and sadder',
  'keep the poem but change the ending so the fox gets away',
  'now the same scene again from the point of view of the dog',
  'redo it as a limerick and keep the punchline',
  'Jetzt das Ganze nochmal aus der Sicht des Drachen',
  'maintenant la même histoire racontée par le chat, en 150 mots',
  'ahora escríbelo otra vez pero que rime en pareados',
];

const REASONING: readonly string[] = [
  // arguments analysed formally
  'here is an op-ed paragraph. identify the premises and the conclusion, reconstruct the argument, and name any fallacies: "every city that built more bike lanes saw more cyclists. so bike lanes create cyclists, and anyone who opposes them is simply against public health."',
  'is this argument valid? if the train is late i miss the meeting. i missed the meeting. so the train was late. explain why or why not',
  'all successful startups take big risks. my startup takes big risks. therefore it will succeed. what exactly is wrong with this reasoning?',
  'reconstruct the argument in this letter to the editor as numbered premises and a conclusion, then say which premise carries the most weight and whether the conclusion follows: "schools that banned phones report higher grades, so phones cause bad grades, so the state must ban them everywhere."',
  'my friend says "no one has ever proved that ghosts do not exist, so they probably do". name the fallacy and explain why the inference fails',
  'is the following syllogism valid: no reptiles have fur, some pets have fur, so some pets are not reptiles. justify it',
  'decide whether these two statements can both be true, and explain: "every member of the committee voted" and "not every vote was counted, yet the count matched the number of members"',
  'analyse the structure of this argument and point out the hidden assumption: "crime fell the year the new mayor took office, so her policies work"',
  // Fermi estimates
  'fermi estimate: how much land would we need to cover with solar panels to supply all of germany with electricity? walk me through each assumption',
  'roughly how many piano tuners work in chicago? do it fermi style, step by step',
  'ballpark how many litres of drinking water a city of one million people uses per day, and show the reasoning',
  'estimate how many haircuts are given in london on a typical saturday, explain each factor',
  'how many tennis balls would fit inside a school bus? give an estimate with the steps',
  'roughly how many trees would it take to absorb the yearly co2 of one car? estimate it',
  // logic puzzles told as stories
  'our book club of five sits around a round table. mira sits next to jonas, paul sits between jonas and lena, and theo sits on lena\'s left. who sits on mira\'s other side, and how do you know?',
  'at the village fair greta, pavel and rosa run the jam, honey and cider stalls. greta does not sell cider, the honey seller is older than pavel, and greta is the youngest of the three. who sells what?',
  "our office secret santa: kai, lin, mo and nia each gave one gift and got one. nobody gave to the person who gave to them, kai gave to lin, and nia did not get her gift from mo. who gave to whom? explain",
  'four siblings share a box of cookies. anna ate twice as many as ben, ben ate one more than carla, dani ate as many as anna and carla together, and there were 26 cookies. how many did each one eat?',
  "my kids hid the remote under one of three cushions, red, blue or green. tom says it's not under the red one, ida says it's under the blue one, max says ida is lying. exactly one of them tells the truth. where is it?",
  'at the dinner, the doctor sat between the two teachers, the chef sat at the end, and the pilot was not next to the chef. there are five chairs in a row and two teachers. which seats can the pilot be in?',
  'on an island some people always lie and others always tell the truth. a says "at least one of us is a liar". b says nothing. what are a and b?',
  'five runners finished a race. eva beat fritz but lost to gil, hanna finished right after eva, and ivan won. in what order did they finish?',
  // lower bounds and amortised analysis, in words or over pseudo-code
  'why can no sorting algorithm that only compares elements beat n log n comparisons in the worst case? i want the argument, not code',
  'explain the decision tree argument for why sorting needs at least log2 of n factorial comparisons',
  'why do you need at least n - 1 comparisons to find the maximum of n numbers? give the argument',
  `prove that push on this dynamic array costs constant amortised time. no code needed, just the proof:

push(x):
  if size == capacity:
    allocate a new array of 2 * capacity
    copy all elements into it
  arr[size] = x
  size = size + 1`,
  `using the potential method, show that n calls of this increment cost O(n) in total:

increment(A):
  i = 0
  while i < length(A) and A[i] == 1:
    A[i] = 0
    i = i + 1
  if i < length(A):
    A[i] = 1`,
  'prove that this loop always terminates and state the invariant, i do not need an implementation: while x != y: if x > y then x = x - y else y = y - x',
  'show that a binary heap can be built from n elements in linear time, the summation argument please',
  // probability
  'how many people do you need in a room for a 50% chance that two share a birthday? and why is the number so surprisingly low',
  'what is the chance that at least two of the 23 players and the referee on a football pitch share a birthday?',
  'in a group of 30, what is the probability that someone has the same birthday as me specifically? how is that different from the usual birthday problem',
  'if i draw socks from a drawer with 6 black and 4 white socks in the dark, how many do i need to draw to be sure of a matching pair? and to be sure of a black pair?',
  'a test for a rare disease is 99% accurate and 1 in 1000 people have it. i tested positive. how worried should i be? reason it through',
  // reading numbers
  'our a/b test dashboard shows variant b at 4.8% conversion against 4.3% for a, with about 6,200 visitors in each arm. is that significant or could it be noise?',
  'the dashboard says p = 0.07 and a 12% uplift in sign-ups after 9 days. my boss wants to ship it. how should we interpret that, statistically?',
  'we tested two email subject lines, 18,000 sends each, open rates 21.4% and 22.1%. is the difference real? walk me through it',
  'the conversion rate went from 3.1% to 3.4% after the redesign but traffic also dropped 20%. did we actually gain conversions? work it out',
  // unit arithmetic in other languages
  'Wie viele Minuten hat ein Schaltjahr?',
  'Combien de minutes y a-t-il dans une année non bissextile ?',
  'Si hoy es 3 de marzo, ¿cuántos días faltan para el 17 de mayo?',
  'Quante ore ci sono in un mese di 30 giorni?',
  'Quantos segundos tem um dia? Mostra a conta.',
  'Wie viele Tage sind 1.000.000 Sekunden ungefähr?',
  // money word problems that are math
  'my emergency fund is at 7,800 and my monthly expenses are 2,600. if i add 300 a month, after how many months will it cover 6 months of expenses? calculate it',
  'my employer matches 100% of the first 3% and 50% of the next 2% of salary. on 60,000, if i put in 5%, how much does the employer add per year? show the math',
  'a restaurant pays 4,500 rent and 11,000 for staff per month, food cost is 30% of sales and the average bill is 22. how many guests a month to break even? calculate',
  'offer a pays 70k with a 5% bonus, offer b pays 66k with a 10% bonus and a 3,000 signing bonus. which one pays more over two years? do the calculation',
  'a recipe for 4 uses 300 g of rice. how much rice for 18 people, and how many 1 kg bags is that? work it out',
  'if a 401k grows 7% a year, what will 500 a month be worth after 30 years? show the formula and the number',
  'rent starts at 1,400 and goes up 8% every year. what is the rent in year 4, and how much is paid in total over the first 4 years?',
  'a 12,000 mAh power bank charges a 4,000 mAh phone at 70% efficiency. how many full charges do i get? calculate',
  'which pizza is the best deal per square inch: 10 inch for 9, 14 inch for 15 or 18 inch for 22?',
  'a 600 watt heater runs 5 hours a day for 90 days at 0.32 per kWh. what does it cost over the winter?',
  'Ich habe 12.000 € und lege sie zu 3,5 % Zinsen pro Jahr an. Wie viel habe ich nach 8 Jahren mit Zinseszins? Bitte mit Rechenweg.',
  "J'ai acheté une voiture 18 000 € qui perd 15 % de sa valeur par an. Combien vaut-elle au bout de 4 ans ? Détaille le calcul.",
  'Tengo 1.900 € al mes: alquiler 750, comida 300, transporte 90. Si quiero ahorrar el 15 %, ¿cuánto me queda para ocio? Haz la cuenta',
  'Se metto da parte 250 euro al mese al 2 % annuo, quanto avrò dopo 6 anni? Fammi il calcolo',
  'Recebo 2.600 reais e gasto 40 % com aluguel. Se o aluguel subir 10 %, quanto sobra por mês? Calcula',
  'Ich zahle 780 € Miete und verdiene 2.450 € netto. Wie viel Prozent meines Gehalts gehen für die Miete drauf, und wie viel wäre es nach einer Erhöhung um 6 %?',
  'i make 3,400 a month after tax. if i put 20% into savings and rent takes 1,250, what is left per week for everything else?',
  'a phone costs 960 upfront or 45 a month for 24 months. how much more do i pay with the monthly plan, in money and in percent?',
  'my gym is 39 a month or 399 for the year paid upfront. how many months do i need to go for the yearly plan to be cheaper?',
  'we split a holiday house: 2,100 for 7 nights, 3 couples stay all week and 1 couple only 3 nights. what is a fair split per couple? calculate it',
  'if inflation is 3% a year, what will 100 euros of groceries cost in 10 years?',
  'a 15% discount followed by another 10% off: is that the same as 25% off? show why with a 80 dollar jacket',
  'Wie wahrscheinlich ist es, beim Lotto 6 aus 49 genau drei Richtige zu haben? Mit Rechenweg bitte',
  "Quelle est la probabilité de tirer deux as à la suite dans un jeu de 52 cartes, sans remise ?",
  'Qual è la probabilità che in una famiglia con 3 figli ci siano almeno due femmine?',
  // counting around poems, the reasoning side of the form border
  'how many different rhyme schemes are possible for a four-line stanza? count them and explain the method',
  'in a sestina the end words rotate by a fixed permutation. after how many stanzas would the order return to the start if you kept going? prove it',
];

const GENERAL: readonly string[] = [
  // personal finance advice with numbers
  "how many months of expenses should my emergency fund cover if i'm a freelancer with irregular income? my fixed costs are about 2,400 a month",
  'my employer matches 401k contributions 50% up to 6% of salary. i make 68k and still have a car loan at 7%. should i at least get the full match first? what do people usually advise',
  "is 3 months of savings enough for a two-income household with a mortgage and a toddler, or should we aim for 6?",
  'i earn 42k and have 8k of credit card debt at 24%. balance transfer card or personal loan? what are the catches of each',
  "i'm 29 with a 5,000 car loan at 6%. pay it off early or put the money into my roth ira? what would you consider",
  'we have 14k in a savings account earning 0.5%. where should a cautious couple in their 50s keep it instead?',
  'should i take a 6 month sabbatical at 41 if i have 18 months of expenses saved? my job would not be guaranteed when i come back',
  'Wie viele Monatsgehälter sollte ein Notgroschen haben, wenn ich verbeamtet bin und 2.800 netto verdiene?',
  'Quanto devo ter de reserva de emergência se ganho 3.000 reais por mês e trabalho como autônomo?',
  // small business viability
  "i want to open a small bubble tea shop in a college town. rent is 3,800 a month, i'd need 3 part-time staff, average ticket around 6.50. does this sound viable? what should i check before signing the lease",
  "thinking of opening a bike repair workshop: 1,200 rent, me plus one apprentice, average repair about 45 euros. what should i think about before committing?",
  'my sister wants to start a mobile dog grooming van. the van costs 35k, a groom is about 70 dollars, she could do 5 a day. is it a good idea? what risks is she missing',
  'we are considering a second location for our yoga studio, rent would be 5,200 and we have about 140 members at the first one. what questions should we answer first?',
  'is a vending machine side business worth it with 10k to start? what do people who tried it say',
  // job offers
  'offer a: 78k, fully remote, 25 days holiday. offer b: 91k, office 4 days a week, 45 minute commute each way, 30 days holiday. which would you pick and why?',
  'i have two offers, 54k in leeds and 63k in london. is the london one really better once you count rent and commuting? help me think it through',
  'one offer is 88k at a bank with a 10% bonus, the other 80k at a nonprofit i believe in. i have a 2 year old. how do people make this kind of choice?',
  // hardware buying
  'how much ram do i need for gaming in 2025? is 16 gb still ok or should i get 32?',
  'i want to build a pc to run local llms like llama 70b, budget around 2,500 euros. should i prioritise gpu vram or system ram?',
  'recommend a nas for a family media server: 4 people, around 3 tb of photos and films, plex, budget 600',
  'is a 750 w power supply enough for an rtx 4070 and a ryzen 7?',
  'which laptop for a nursing student, budget 700, has to last 4 years',
  'best monitor for photo editing under 400? 27 inch, i sit about 70 cm away',
  'mesh wifi or a single better router for a 3 storey house of 180 m2?',
  '¿Cuánta RAM necesito para editar vídeo 4K en DaVinci Resolve? Tengo un presupuesto de 1.200 euros para el PC',
  // recipes and kitchen conversions
  "i'm cooking chili for 40 people at a school fundraiser. two kids have peanut allergies and some guests are vegetarian. how much meat, beans and rice should i buy, and how do i keep it safe?",
  "scaling my grandma's lasagna from 6 servings to 25 for a rehearsal dinner, a few guests are gluten free. any tips beyond multiplying everything?",
  'how many grams is a cup of flour?',
  'convert 180 c to fahrenheit for my oven',
  'the recipe says 2 sticks of butter, how much is that in grams?',
  'is 1 tsp of dried thyme the same as 1 tbsp fresh?',
  'Combien de grammes de pâtes par personne pour un repas de 30 personnes ? Deux enfants sont allergiques au gluten.',
  'Wie viel Gramm sind 250 ml Mehl ungefähr?',
  'menu for a kids birthday with 15 children, one with a dairy allergy and one who only eats beige food',
  // functional writing with figures
  'write a product description for our oak side table: 45 x 45 cm top, 55 cm high, 6 kg, oiled finish, made in portugal',
  'product description for a stainless steel water bottle, 750 ml, keeps drinks cold 24 hours and hot 12 hours, for our shopify store',
  'help me write the budget justification of a grant application: we ask for 48,000 over 2 years for a community garden, 60% for a part-time coordinator, 25% materials, 15% workshops',
  'draft the summary of a grant application for a small arts festival asking 12,500 euros, about 3,000 visitors expected, 40 local artists',
  'write an email to the team: the office is closed from 23 december to 2 january, 3 people are on call, rota attached',
  'tidy up these meeting notes: 14 attendees, budget approved at 220k, next review 15 may, 3 action items for marketing, 1 for legal',
  'write a notice for our building: water shut off tuesday 9:00 to 13:00 for pipe repairs in units 1 to 24',
  'our hoa fees are going from 180 to 240 a month. write a polite letter asking the board to explain the increase',
  'write a listing for my used bike: 2019 trek, 56 cm frame, 21 gears, new tyres, 350 or best offer',
  'a one page flyer for our charity run: 5 km and 10 km, 12 june, start 9:30 at the park, entry 15, kids free',
  // tenancy and legal situations with dates
  'my landlord wants to keep my 1,500 deposit after 4 years because of wear on a carpet that was already 10 years old when i moved in. is that allowed in ontario?',
  'i moved in on 1 march 2021 and the lease ended 28 february 2024. the landlord says i owe a month because i gave notice on 5 february. is he right? this is in new york',
  'Mein Vermieter will die Nebenkosten um 60 Euro im Monat erhöhen, ich wohne seit 2019 hier. Muss ich das einfach akzeptieren?',
  'my neighbour has played loud music until 2 am 3 nights a week for 2 months. what are my options before going to court?',
  // history and explanations for a presentation
  'summarise the causes of the french revolution for a 5 minute presentation, 5 slides',
  'main causes of the collapse of the soviet union, bullet points for a class presentation',
  'what caused the great depression? i need 3 main points for a 10 minute talk on friday',
  'why did the berlin wall fall in 1989? short version for my 12 year old',
  'key causes of the 1929 crash vs the 2008 crisis, compare them for a study group',
  // other advice with numbers
  'my car has 180,000 km on it and needs a 2,200 repair. fix it or buy a used one?',
  'is 120 g of protein a day too much for a 58 kg woman who does pilates twice a week?',
  "i'm 6 weeks out from a half marathon and can run 12 km now. how should my training weeks look?",
  'my teenager sleeps 6 hours on school nights and 11 at weekends. is that harmful or normal for 16?',
  'is a 55 inch tv too big for a 3.5 m viewing distance?',
  'our electricity bill went from 90 to 160 a month after we got a heat pump. is that normal in january?',
  'we have 10 days in portugal in october, two adults and a baby of 8 months. suggest a relaxed route',
  'we are going to disney for 5 days with 2 kids and 4,000 without flights. realistic? what would you skip',
  'my 17 year old wants a job for 10 hours a week during exam year. good idea or not?',
  'how long should i keep bank statements and tax documents in germany?',
  'Ho due offerte: 32.000 a Bologna o 38.000 a Milano. Quale conviene considerando affitto e qualità della vita?',
  "Je gagne 2 300 € net et mon loyer est de 850 €. Est-ce raisonnable d'acheter une voiture neuve à crédit ? Quels conseils ?",
  // non-English and CJK general asks, next to the non-English creative ones
  '上海三天的行程怎么安排比较好？我们带着一个五岁的孩子',
  '请把这句话翻译成日语：明天的会议改到下午三点。',
  '感冒了应该多喝水还是吃药？有什么注意事项',
  '东京で安くて美味しいラーメン屋を教えてください',
  '日本の年金制度について簡単に説明してください',
  'Kannst du diesen Satz ins Englische übersetzen: „Die Lieferung verzögert sich um zwei Wochen.“',
  'Was muss ich bei einem Umzug von Köln nach Wien mit Hund beachten?',
  "Quels papiers faut-il pour louer un appartement à Lyon quand on est étudiant étranger ?",
  'Traduis en espagnol : « Nous avons bien reçu votre commande, elle sera expédiée lundi. »',
  '¿Qué ver en Sevilla en dos días si vamos con mis padres mayores?',
  'Consigli per il primo colloquio di lavoro in banca? Sono un po\' agitato',
  'O que levar numa viagem de uma semana aos Açores em novembro?',
  'hey, how is your day going?',
  'good morning! anything interesting happening in the world of space travel lately?',
  // general asks that mention programming
  "i'm 33, work in hospital admin and know some python and sql from online courses. how do i actually land a data analyst job? what should my next 6 months look like",
  'should i learn python or javascript first? no idea yet what i want to build',
  'python or javascript as a first language for a 40 year old career changer who likes numbers?',
  'translate this code comment from german to english: "Achtung: diese Funktion wird nur beim ersten Start aufgerufen, danach übernimmt der Cache"',
  'translate these commit messages from french to english for my team: "corrige le bug d\'affichage sur mobile", "ajoute la traduction allemande", "supprime les anciens tests"',
  'translate into english, it is a sentence from our api docs: "Der Parameter timeout gibt die maximale Wartezeit in Sekunden an."',
  'write me a phone script for negotiating my salary for a devops role. they offered 95k and i want 110k',
  'a phone script for calling my internet provider: i pay 65 a month for 250 mbit and a competitor offers 500 mbit for 45',
  'how do i explain my job as a backend developer at a bank to my grandmother so she stops telling people i fix computers?',
  'is a data science master worth it if i already know python and sql at an intermediate level and work as an analyst?',
  'my husband spends every weekend coding side projects and i feel ignored. how do i bring it up without a fight?',
  'compare stoicism and epicureanism: which is more useful for dealing with everyday stress?',
  'how do i prepare for the behavioural part of a big tech interview as a frontend developer? not the coding part, the "tell me about a time" questions',
  'write a linkedin post announcing that i passed the aws solutions architect exam after 3 months of evening study',
  "i'm a teacher, would a summer python course help my career or is it a waste of time?",
  'what salary should a junior sql developer in warsaw expect?',
  "write a resignation letter: i'm leaving my java developer job after 5 years for another company, keep it warm",
  'good podcasts about the history of computing for a long drive?',
  "my daughter wants to study computer science but thinks she's bad at math. how do i encourage her?",
  'our nonprofit wants to use chatgpt for donor emails. what policy should the board approve?',
  'tips for networking at a developer conference when you are an introvert',
  'Ich bin Buchhalterin und möchte in die Datenanalyse wechseln. Lohnt es sich SQL und Python zu lernen, oder reicht Excel?',
  'Traduis ce commentaire en anglais : « Cette variable stocke le nombre de tentatives avant le blocage du compte »',
  '¿Python o JavaScript para empezar? Quiero cambiar de carrera y tengo 35 años',
  // concept questions next to the reasoning border
  'what is a fermi estimate and why do consulting interviews love them?',
  'what is an a/b test and why do companies run them? plain words please',
  'summarise this op-ed in three sentences for our newsletter: "the council wants to close the old library and move the books online. supporters say it saves 400,000 a year. critics say the building is the only free warm place in the neighbourhood and that older residents will lose access."',
  'who was grace hopper and what did she actually invent?',
  'our book club of 6 liked the remains of the day. what should we read next?',
  'what is a sestina? i keep seeing the word in my poetry class',
  'how do i get a short story published in a literary magazine? first time submitting',
];

const CODING: readonly string[] = [
  // editors and terminals
  "vim won't let me quit, it says E37: No write since last change. i just want out",
  "i'm stuck in vim, esc does nothing and i just want to save and get out",
  'how do i quit nano without saving',
  'undo in vim?',
  'how do i leave the node repl, ctrl c just prints a warning',
  'how do i keep a process running after i close my ssh session',
  // regex extensions
  'extend this regex so it also accepts fractional seconds like 12:30:45.123: ^\\d{2}:\\d{2}:\\d{2}$',
  'change ^(\\d{4})-(\\d{2})$ so the month part only accepts 01 to 12',
  'my regex ^[A-Z]{2}\\d{6}$ for order numbers should also allow an optional -R suffix, how',
  // firewall and reverse proxy
  'ufw: only allow ssh from 192.168.1.0/24 and from the wireguard subnet 10.8.0.0/24, block everything else',
  'nginx: restrict /admin to my lan and my vpn, deny everyone else',
  'caddyfile for jellyfin on a subdomain that is only reachable from my home network',
  'iptables rules to drop all incoming traffic except 443 from anywhere and 22 from 10.0.0.0/8',
  'traefik middleware to whitelist ip ranges for the dashboard, docker labels please',
  'how do i make my home assistant reachable over tailscale but not from the public internet',
  // system design
  'design a shopping cart service on top of cassandra: data model, what happens when two devices update the same cart, and how checkout stays consistent',
  'how would you design a url shortener for 10k writes per second? ids, sharding, caching',
  'design the backend for a ticket booking system on dynamodb so two people can never buy the same seat',
  'system design: a notification service that sends push, email and sms with retries and per-user rate limits',
  'leaderboard for a mobile game with 5 million daily players, redis sorted sets or something else?',
  'model an inventory service on cockroachdb so stock never goes negative under concurrent orders',
  // coding next to the other borders
  'write a python function that computes compound interest from principal, yearly rate and number of years',
  'excel PMT formula for a car loan of 18,000 at 5.9% over 48 monthly payments, with the rate in B2',
  'write a sql query that computes the 401k match per employee: 50% of their contribution up to 6% of salary',
  'write a script that converts cup measurements to grams for a list of ingredients',
  'write a python script that simulates the birthday problem 100,000 times and plots the probability for group sizes 1 to 60',
  'write a function that runs a chi-squared test on a/b results read from a csv',
  'implement a sestina generator in python: take six end words and print the rotation for all six stanzas',
  'javascript function that checks whether a text is a lipogram without the letter e',
  'code a choose-your-own-adventure engine in python that reads the story graph from a json file',
  'write a bash script that prints how many seconds are left until midnight',
  'benchmark merge sort against quicksort in python for lists of 10^5 and 10^6 random ints',
  // programming choices and concepts asked like advice, and coding asks in other languages
  'should i store user settings in a jsonb column or in a separate table in postgres?',
  'enums or union string types in typescript, which one and why',
  'is it ok to catch Exception in python or should i always be specific?',
  'why does a default list argument in python keep the values from earlier calls?',
  'soft delete with a deleted_at column or move the rows to an archive table?',
  'how do i cache pip dependencies in gitlab ci so the pipeline stops reinstalling everything',
  'monorepo or separate repos for one frontend and two backend services?',
  'rest or grpc between our internal microservices?',
  "Comment supprimer les doublons d'une table PostgreSQL en gardant la ligne la plus récente ?",
  'Wie kann ich in TypeScript prüfen, ob ein Objekt ein bestimmtes Interface erfüllt?',
  '¿Cuál es la diferencia entre let y const en JavaScript?',
  'Come faccio a leggere un file JSON in Python e stampare solo alcune chiavi?',
  'Como faço um join de dois DataFrames no pandas pela coluna id?',
  'Pythonでリストを逆順にするにはどうすればいいですか？',
  'Dockerコンテナのログを確認するコマンドは？',
  '如何在Git中撤销上一次提交但保留修改？',
  // German comments, German asks
  `warum stürzt das ab und wie fange ich die leere liste ab?

# Berechnet den Durchschnitt der Werte
def durchschnitt(werte):
    return sum(werte) / len(werte)  # hier knallt es`,
  `rename the german variables to english and keep the logic:

const anzahlKunden = kunden.filter(k => k.aktiv).length;
const umsatzGesamt = bestellungen.reduce((s, b) => s + b.betrag, 0);`,
  `Kannst du diese Funktion fixen? Sie soll alle Rechnungen über 1000 Euro zurückgeben.

// Gibt alle großen Rechnungen zurück
function großeRechnungen(rechnungen) {
  return rechnungen.map(r => r.betrag > 1000);
}`,
  'schreib mir eine python-funktion, die prüft ob ein datum ein feiertag in bayern ist, mit deutschen kommentaren',
  'Comment ajouter des commentaires en français dans un fichier YAML sans casser la config ?',
  'i know python and sql. write me a query that finds customers who ordered in january but not in february',
  'translate this python script to javascript:\n\nimport json\nwith open("data.json") as f:\n    data = json.load(f)\nprint(len(data["items"]))',
  'fix: error[E0502]: cannot borrow `v` as mutable because it is also borrowed as immutable',
  'how do i undo the last git commit but keep the changes',
  "my docker container can't reach postgres on the host on port 5432",
];

export const TRAFFIC_ROUND5: Record<Category, readonly string[]> = {
  coding: CODING,
  reasoning: REASONING,
  creativity: CREATIVITY,
  general: GENERAL,
};

/** Multi-turn conversations: the follow-up decides. */
export const TRAFFIC_ROUND5_MULTI_TURN: readonly LabelledConversation[] = [
  // creativity
  c('creativity', u('Schreib eine kurze Geschichte über Rotkäppchen, aber modern, in Berlin'), a('Rotkäppchen heißt hier Lea und fährt mit dem E-Scooter durch Neukölln, in der Tasche Suppe für die Oma im vierten Stock...'), u('Jetzt nochmal aus der Sicht des Wolfs')),
  c('creativity', u('écris un petit poème sur un chat qui regarde la pluie'), a('Derrière la vitre, il compte les gouttes,\nla queue en point d\'interrogation...'), u('maintenant du point de vue de la pluie')),
  c('creativity', u('write a short mystery story set in a lighthouse'), a('The keeper\'s logbook stopped on the 14th of November. Three days later the supply boat found the lamp still burning...'), u('continue it, but make the twist that the supply boat captain wrote the last entry')),
  c('creativity', u('help me describe a port town for my fantasy campaign'), a('Saltmere clings to black cliffs; its harbour is a tangle of fishing boats and smugglers\' sloops, and the only inn stands where the old lighthouse fell.'), u('just a name for the inn')),
  c('creativity', u('write a poem about my grandfather\'s boat'), a('He painted her blue every spring,\nthe hull that carried him through fog...'), u('redo it keeping a strict abab rhyme scheme and the refrain "the harbour keeps his name" at the end of every stanza')),
  c('creativity', u('escribe la letra de una canción sobre Valencia en verano'), a('Verso 1:\nLa arena quema, la horchata fría,\nlas fallas duermen hasta marzo...'), u('añade un puente antes del último estribillo')),
  c('creativity', u('Scrivi un racconto su un vecchio orologiaio di Torino'), a('Ogni mattina alle sette, il signor Bruno apriva la saracinesca e dava la carica a quarantadue orologi...'), u('rendilo più corto, massimo 150 parole, e con un finale triste')),
  c('creativity', u('concept album idea about a city that sinks slowly into the sea, 8 tracks'), a('1. High Tide Hymn\n2. The Mayor Says Stay\n3. Salt in the Stairwell\n4. Last Ferry\n5. Drowned Bells\n6. Rooftop Gardens\n7. Letters to the Mainland\n8. Atlantis Is a Place We Chose'), u('now the full lyrics for track 4')),
  c('creativity', u('write a choose your own adventure about escaping a haunted museum, 3 decision points'), a('You wake up in the Egyptian hall after closing time. A sarcophagus lid is open. 1) Run for the exit. 2) Look inside the sarcophagus...'), u('add a fourth ending where the night guard turns out to be a ghost too')),
  c('creativity', u('write a lipogram about the sea without the letter e'), a('A vast blue world, calm and dark, with fish that swim past coral walls...'), u('again, but this time avoid the letter a')),
  c('creativity', u('my python script keeps crashing with a KeyError'), a('The key is missing from the dict. Use `d.get("key")` or check `if "key" in d` first, and print the keys to see what is actually there.'), u('thanks! now write a little limerick about KeyErrors for our team chat')),
  c('creativity', u('Escreve um poema rimado para uma criança sobre uma tartaruga'), a('A tartaruga Rita anda devagar,\nleva a casa às costas para onde quer morar...'), u('agora mais uma estrofe sobre o irmão dela, que é muito rápido')),
  // coding
  c('coding', u('regex for timestamps like 12:30:45'), a('`^\\d{2}:\\d{2}:\\d{2}$` matches two digits, colon, two digits, colon, two digits.'), u('also allow fractional seconds, up to 3 digits')),
  c('coding', u('regex to match a year and month like 2023-07'), a('`^\\d{4}-\\d{2}$`'), u('only months 01 to 12 please')),
  c('coding', u('set up nginx as a reverse proxy for my nextcloud on port 8080'), a('```nginx\nserver {\n    listen 443 ssl;\n    server_name cloud.example.com;\n    location / {\n        proxy_pass http://127.0.0.1:8080;\n        proxy_set_header Host $host;\n    }\n}\n```'), u('restrict it so only my lan 192.168.178.0/24 and the wireguard subnet 10.6.0.0/24 can reach it')),
  c('coding', u('git commit opened vim and i cant get out'), a('Press Esc, then type `:q` and Enter. If you have unsaved changes, `:wq` saves and quits, `:q!` quits without saving.'), u('and save without quitting?')),
  c('coding', u('design a shopping cart service for our shop, we use cassandra'), a('Store one partition per cart (`cart_id`), with a row per item; carts are written often and read on every page view, which suits Cassandra...'), u('what happens if the same user adds items from phone and laptop at the same time')),
  c('coding', u('ufw rules for my home server, only ssh and https'), a('```\nsudo ufw default deny incoming\nsudo ufw allow 22/tcp\nsudo ufw allow 443/tcp\nsudo ufw enable\n```'), u('and ssh only from the vpn subnet 10.8.0.0/24')),
  c('coding', u('my flask app is slow on the /report page'), a('Profile it first: usually it is an N+1 query. Turn on SQLAlchemy echo and count the queries for one request.'), u('yes 400 queries for one page')),
  // reasoning
  c('reasoning', u('how many people do you need for a 50% chance two share a birthday'), a('23. With 23 people there are 253 pairs, and the chance that all birthdays differ drops just below one half.'), u('and for 90%?')),
  c('reasoning', u('our a/b test: control 3.2% conversion, variant 3.6%, 5,000 users each'), a('That is a 12.5% relative lift. With those sample sizes the z statistic is about 1.1, so not significant at the usual 5% level.'), u('what if we keep it running another week and the rates stay the same')),
  c('reasoning', u('fermi estimate: how much area of solar panels would power germany'), a('Germany uses about 500 TWh a year. A square metre of panel yields roughly 150–200 kWh a year there, so about 3,000 km² of panels, around 1% of the country.'), u('and for the whole eu?')),
  c('reasoning', u('why can comparison sorts not be faster than n log n'), a('Any comparison sort is a binary decision tree whose leaves are the n! orderings; a tree with n! leaves has height at least log2(n!), which is about n log n.'), u('so why doesn\'t counting sort break that rule?')),
  c('reasoning', u('logic puzzle: 4 friends sit in a row. ada is not at either end, ben is right of ada, cleo is not next to ben. where does dan sit?'), a('Ada is in seat 2 or 3. With Ada in 2 and Ben in 3, Cleo must take seat 1 and Dan seat 4. With Ada in 3 and Ben in 4, Cleo and Dan share seats 1 and 2 either way. So Dan can sit in seat 1, 2 or 4.'), u('what if cleo also refuses to sit at the left end?')),
  c('reasoning', u('analyse this argument: "most successful people wake up early, so waking up early makes you successful"'), a('Premise: most successful people wake up early. Conclusion: waking early causes success. It confuses correlation with causation and ignores survivorship: we do not see the early risers who did not succeed.'), u('which premise is the weakest, and how would you make the argument valid?')),
  c('reasoning', u('if i save 400 a month at 5% a year, how much after 10 years'), a('About 62,100, of which 48,000 is your own money.'), u('now with 4% instead')),
  c('reasoning', u('i earn 2,700 a month, rent 980, food 420, transport 110. if i save 10%, how much is left?'), a('10% of 2,700 is 270. 2,700 − 980 − 420 − 110 − 270 = 920 left for everything else.'), u('and if rent goes up by 60?')),
  c('reasoning', u('Si invierto 3.000 € al 4 % anual, ¿cuánto tendré en 5 años?'), a('Con interés compuesto: 3.000 × 1,04⁵ ≈ 3.649,96 €.'), u('¿y en 15 años?')),
  // general
  c('general', u('my docker compose setup can\'t reach the database'), a('Use the service name as the host (e.g. `db:5432`), not localhost, and make sure both services are on the same network.'), u('that fixed it. unrelated, but compare stoicism and buddhism on dealing with anger')),
  c('general', u('how do i reverse a list in python'), a('`xs[::-1]` gives a reversed copy; `xs.reverse()` reverses in place.'), u('btw my nephew is 15 and wants to get into programming, should he learn python or javascript first?')),
  c('general', u('write a bash script that checks if my website is up'), a('```bash\n#!/usr/bin/env bash\ncurl -fsS https://example.com > /dev/null || echo "down"\n```'), u('thanks. different thing: write me a phone script for calling my landlord about the broken heating, i always stumble on calls')),
  c('general', u('can you review this function'), a('It looks fine; the loop could use `enumerate`, and the comment is in German, which your team may not read.'), u('translate that comment into english for me: "Wird nur aufgerufen, wenn der Benutzer angemeldet ist"')),
  c('general', u('how many months should my emergency fund cover'), a('Three to six months of essential expenses is the usual advice; more if your income is irregular or you are the only earner.'), u('and if my partner also earns about 2k a month?')),
  c('general', u('i have two job offers, 72k at a bank or 64k at a startup'), a('Beyond salary, compare the stability, learning, commute, pension and the equity terms at the startup.'), u('what if the startup also gives 5 more vacation days and a 4 day week')),
  c('general', u('i want a pc for running local llms, budget 2000'), a('Put most of it into a GPU with as much VRAM as possible (a used RTX 3090 with 24 GB is popular), 64 GB of system RAM and a fast NVMe drive.'), u('and if i can stretch to 3,500?')),
  c('general', u('chili for 40 people at a school event, how much should i make'), a('Plan on about 350 ml per person, so roughly 14 litres; that is around 4 kg of minced meat, 4 kg of beans and 2 kg of onions, plus rice on the side.'), u('one guest is vegan and two have nut allergies, what do i change')),
  c('general', u('what were the causes of the first world war'), a('Historians point to militarism, the alliance system, imperial rivalry and nationalism, with the assassination of Franz Ferdinand in June 1914 as the trigger.'), u('now make it fit on 4 slides for a 5 minute talk')),
];

/** Single asks under a system prompt. */
export const TRAFFIC_ROUND5_SYSTEM_PROMPTED: readonly LabelledConversation[] = [
  c('creativity', s('You are a helpful assistant.'), u('escribe un poema con rima para un niño de 6 años sobre la luna, 4 estrofas')),
  c('creativity', s('You are a creative writing coach.'), u('write a 200 word lipogram about a train journey, no letter o')),
  c('reasoning', s('Du bist ein hilfreicher Assistent.'), u('Wie viele Sekunden hat ein Tag? Rechne es vor.')),
  c('reasoning', s('You are a helpful assistant.'), u('is this valid: every violinist in the orchestra reads music, some people who read music are left-handed, so some violinists are left-handed?')),
  c('general', s('You are a career coach.'), u('i know some python and sql. is data analyst or data engineer the better first step for me?')),
  c('general', s('You are a personal finance assistant.'), u('how many months should my emergency fund cover if i work in a stable government job with 3,100 net?')),
  c('coding', s('You are a senior backend engineer.'), u('design a shopping cart for a flash sale with 50k concurrent users on a distributed database')),
  c('coding', s('You are a network engineer assistant.'), u('allow the grafana dashboard only from 10.8.0.0/24 and 192.168.0.0/24 in nginx')),
];

// Texts of the Mini App in English and Russian. The language follows the Telegram
// user's language_code (init data first, then /api/me), like the API's messages.
// Every key exists in both languages; tests check that.

const en = {
  app_name: "NanoGen",
  loading: "Loading…",
  retry: "Try again",
  close: "Close",
  back: "Back",
  cancel: "Cancel",
  copy: "Copy",
  copied: "Copied",
  share: "Share",
  shared: "Sent.",
  download: "Download",
  load_more: "Load more",
  nothing_more: "That's all",
  error_network: "No connection. Check your network and try again.",
  error_generic: "Something went wrong. Please try again.",

  gate_title: "Open NanoGen in Telegram",
  gate_text: "This app works inside Telegram. Open it from the bot's menu button.",
  gate_dev_hint: "Running locally? Open the link that this command prints:",
  expired_title: "Session expired",
  expired_text: "Close the app and open it again from the bot to continue.",
  banned_title: "Access blocked",

  tab_create: "Create",
  tab_history: "History",
  tab_balance: "Balance",
  tab_friends: "Friends",
  nav_label: "Sections",
  balance_chip: "Balance: {credits}",

  catalog_title: "Choose a model",
  catalog_empty: "No models are available right now.",
  kind_image: "Image",
  kind_video: "Video",
  price_credits: "{price}",

  create_title: "New generation",
  prompt_label: "Prompt",
  prompt_placeholder: "Describe what you want to see…",
  prompt_counter: "{count} of {max} characters",
  prompt_too_long: "The prompt is too long: at most {max} characters.",
  prompt_required: "Write a prompt first.",
  params_title: "Settings",
  param_range: "From {min} to {max}",
  price_label: "Price",
  balance_label: "Your balance",
  not_enough: "Not enough credits: you need {missing} more.",
  top_up: "Top up",
  generate_for: "Generate · {price}",
  sending: "Sending…",
  retry_in: "Try again in {time}",
  rate_limited: "Too many generations in a minute. You can start the next one in {time}.",
  max_active: "You already have the maximum number of generations in progress. Start a new one when one of them finishes.",
  max_active_wait: "You already have the maximum number of generations in progress. Try again in {time}.",
  open_history: "Open history",
  duplicate_shown: "This request was already sent — here is its generation.",
  key_reused: "This request changed while it was being sent. Check it and send it again.",
  model_unavailable: "This model is not available any more. Choose another one.",
  fix_fields: "Check the highlighted fields.",

  gen_title: "Generation",
  status_pending: "In queue",
  status_processing: "Generating",
  status_completed: "Done",
  status_failed: "Failed",
  status_cancelled: "Cancelled",
  gen_waiting: "Your generation is in the queue…",
  gen_working: "Creating your result. This can take a while — you can leave this screen, the bot will send the result too.",
  gen_failed: "The generation failed.",
  gen_refunded: "{credits} returned to your balance.",
  gen_cancel: "Cancel generation",
  gen_cancelled_toast: "Cancelled. Credits returned.",
  gen_not_cancellable: "It has already finished.",
  gen_result_alt: "Result for: {prompt}",
  gen_charged: "Charged",
  gen_model: "Model",
  gen_created: "Created",
  gen_again: "Create another",
  gen_not_found: "This generation does not exist.",

  history_title: "History",
  history_empty: "No generations yet.",
  history_empty_filtered: "Nothing matches these filters.",
  filter_status: "Status",
  filter_kind: "Type",
  filter_all: "All",
  history_item_label: "{status}: {prompt}",

  balance_title: "Balance",
  balance_value: "You have",
  packs_title: "Buy credits",
  packs_empty: "No credit packs are on sale right now.",
  pack_credits: "{credits}",
  pack_buy: "Buy {title} for {stars} Stars",
  need_more: "You need {price} for this generation and have {balance}. Buy a pack to continue.",
  payment_paid: "Payment received. Thank you!",
  payment_pending: "The payment is being processed. Your balance will update shortly.",
  payment_failed: "The payment did not go through.",
  payment_outside: "Payments work inside Telegram: the invoice opens there.",
  payment_in_telegram: "Finish the payment in Telegram; your balance updates when it arrives.",
  payments_title: "Purchases",

  friends_title: "Invite friends",
  friends_text: "Invite friends with your link and earn {percent} of every purchase they make.",
  friends_text_plain: "Invite friends with your link and earn a share of every purchase they make.",
  invite_link: "Your invite link",
  invite_share_text: "Create images and videos with AI in NanoGen",
  invited: "Invited",
  earnings: "Earnings",
  withdraw: "Withdraw earnings",

  withdrawals_title: "Withdrawals",
  withdraw_amount: "Amount",
  withdraw_method: "Method",
  withdraw_destination: "Where to send",
  withdraw_destination_hint: "Wallet address, card or account — as the method requires.",
  withdraw_submit: "Request withdrawal",
  withdraw_available: "Available: {amount}",
  withdraw_requested: "Withdrawal requested. We will process it soon.",
  withdrawals_empty: "No withdrawals yet.",
  withdrawal_status_pending: "Pending",
  withdrawal_status_paid: "Paid",
  withdrawal_status_rejected: "Rejected",

  param_aspect_ratio: "Aspect ratio",
  param_size: "Size",
  param_image_size: "Size",
  param_resolution: "Resolution",
  param_duration: "Duration, s",
  param_num_images: "Number of images",
  param_style: "Style",
  param_quality: "Quality",
  param_seed: "Seed",
  withdraw_min: "Minimum {amount}",
  withdraw_on_hold: "On hold for a withdrawal: {amount}",
  withdraw_too_little: "You can withdraw from {amount}.",
  withdrawal_reason: "Reason: {reason}",
  withdrawal_reference: "Reference: {reference}",
  method_ton: "TON wallet",
  method_usdt_ton: "USDT on TON",
  method_usdt_trc20: "USDT TRC-20",
  method_card: "Bank card",
  invite_no_link: "The invite link is not available yet. Your code: {code}",
  payment_status_pending: "Awaiting payment",
  payment_status_paid: "Paid",
  payment_status_failed: "Failed",
  payment_status_refunding: "Refund in progress",
  payment_status_refunded: "Refunded",
  payment_status_cancelled: "Cancelled",
  // Stars subscriptions (balance screen)
  subscription_title: "Subscription",
  subscription_every: "{credits} every {days} days",
  subscription_buy: "Subscribe to {title} for {stars} Stars a month",
  subscription_renews: "Renews on {date}",
  subscription_cancelled_until: "Cancelled · yours until {date}",
  subscription_status_cancelled: "Cancelled",
  subscription_cancel: "Cancel",
  subscription_cancel_label: "Cancel the {title} subscription",
  subscription_cancel_confirm: "Tap again to cancel",
  subscription_cancelled: "Subscription cancelled. No more renewals; it stays until {date}.",
  choice_square: "Square",
  choice_portrait: "Portrait",
  choice_landscape: "Landscape",
  param_watermark: "Watermark",
  param_negative_prompt: "Negative prompt",

  photos_title: "Photos",
  photos_count: "{count} of {max}",
  photo_take: "Camera",
  photo_pick: "Gallery",
  photo_label: "Photo {n}",
  photo_ready: "Uploaded",
  photo_up: "Move photo {n} up",
  photo_down: "Move photo {n} down",
  photo_remove: "Remove photo {n}",
  photos_too_many: "This model takes at most {max}: the rest were left out.",
  photos_busy: "Wait until the photos are uploaded.",
  photos_needed: "Add at least {count} to generate.",
  file_too_large: "The file is too large: at most {size} MB.",
  prompt_optional: "(optional)",
  price_error: "Could not get the price: {message}",
  price_changed: "The price is now {price}. Tap again to generate.",
  no_prompt: "No prompt",
  animate: "Animate",
  results_label: "Results",
  result_n: "{n} of {count}",
  result_show: "Show result {n}",

  // Free credits: the daily bonus and promo codes (screens/growth.js).
  bonus_title: "Daily bonus",
  bonus_text: "{credits} free every day.",
  bonus_claim: "Get {credits}",
  bonus_claimed: "+{credits} on your balance. See you tomorrow!",
  bonus_next: "Next bonus in",
  promo_title: "Promo code",
  promo_placeholder: "Enter a code",
  promo_apply: "Apply",
  promo_applied: "Promo code accepted: +{credits}.",
  promo_required: "Enter a code first.",
  promo_wait: "Too many attempts. Try again in {time}.",
};

const ru = {
  app_name: "NanoGen",
  loading: "Загрузка…",
  retry: "Повторить",
  close: "Закрыть",
  back: "Назад",
  cancel: "Отмена",
  copy: "Копировать",
  copied: "Скопировано",
  share: "Поделиться",
  shared: "Отправлено.",
  download: "Скачать",
  load_more: "Показать ещё",
  nothing_more: "Больше ничего нет",
  error_network: "Нет соединения. Проверьте сеть и попробуйте ещё раз.",
  error_generic: "Что-то пошло не так. Попробуйте ещё раз.",

  gate_title: "Откройте NanoGen в Telegram",
  gate_text: "Приложение работает внутри Telegram. Откройте его кнопкой меню бота.",
  gate_dev_hint: "Запускаете локально? Откройте ссылку, которую печатает эта команда:",
  expired_title: "Сессия истекла",
  expired_text: "Закройте приложение и снова откройте его из бота.",
  banned_title: "Доступ закрыт",

  tab_create: "Создать",
  tab_history: "История",
  tab_balance: "Баланс",
  tab_friends: "Друзья",
  nav_label: "Разделы",
  balance_chip: "Баланс: {credits}",

  catalog_title: "Выберите модель",
  catalog_empty: "Сейчас нет доступных моделей.",
  kind_image: "Изображение",
  kind_video: "Видео",
  price_credits: "{price}",

  create_title: "Новая генерация",
  prompt_label: "Запрос",
  prompt_placeholder: "Опишите, что хотите увидеть…",
  prompt_counter: "{count} из {max} символов",
  prompt_too_long: "Запрос слишком длинный: не больше {max} символов.",
  prompt_required: "Сначала напишите запрос.",
  params_title: "Параметры",
  param_range: "От {min} до {max}",
  price_label: "Цена",
  balance_label: "Ваш баланс",
  not_enough: "Не хватает кредитов: нужно ещё {missing}.",
  top_up: "Пополнить",
  generate_for: "Создать · {price}",
  sending: "Отправляем…",
  retry_in: "Повторите через {time}",
  rate_limited: "Слишком много генераций за минуту. Следующую можно начать через {time}.",
  max_active: "У вас уже максимум генераций в работе. Начните новую, когда одна из них закончится.",
  max_active_wait: "У вас уже максимум генераций в работе. Повторите через {time}.",
  open_history: "Открыть историю",
  duplicate_shown: "Этот запрос уже отправлен — вот его генерация.",
  key_reused: "Запрос изменился во время отправки. Проверьте его и отправьте снова.",
  model_unavailable: "Эта модель больше недоступна. Выберите другую.",
  fix_fields: "Проверьте отмеченные поля.",

  gen_title: "Генерация",
  status_pending: "В очереди",
  status_processing: "Создаётся",
  status_completed: "Готово",
  status_failed: "Ошибка",
  status_cancelled: "Отменена",
  gen_waiting: "Генерация в очереди…",
  gen_working: "Создаём результат. Это может занять время — можно уйти с этого экрана, бот тоже пришлёт результат.",
  gen_failed: "Генерация не удалась.",
  gen_refunded: "{credits} возвращено на баланс.",
  gen_cancel: "Отменить генерацию",
  gen_cancelled_toast: "Отменено. Кредиты возвращены.",
  gen_not_cancellable: "Она уже завершилась.",
  gen_result_alt: "Результат по запросу: {prompt}",
  gen_charged: "Списано",
  gen_model: "Модель",
  gen_created: "Создана",
  gen_again: "Создать ещё",
  gen_not_found: "Такой генерации нет.",

  history_title: "История",
  history_empty: "Генераций пока нет.",
  history_empty_filtered: "По этим фильтрам ничего нет.",
  filter_status: "Статус",
  filter_kind: "Тип",
  filter_all: "Все",
  history_item_label: "{status}: {prompt}",

  balance_title: "Баланс",
  balance_value: "У вас",
  packs_title: "Купить кредиты",
  packs_empty: "Сейчас нет пакетов кредитов в продаже.",
  pack_credits: "{credits}",
  pack_buy: "Купить {title} за {stars} Stars",
  need_more: "Для этой генерации нужно {price}, у вас {balance}. Купите пакет, чтобы продолжить.",
  payment_paid: "Оплата получена. Спасибо!",
  payment_pending: "Платёж обрабатывается. Баланс скоро обновится.",
  payment_failed: "Платёж не прошёл.",
  payment_outside: "Оплата работает внутри Telegram: счёт откроется там.",
  payment_in_telegram: "Завершите оплату в Telegram: баланс обновится, когда она поступит.",
  payments_title: "Покупки",

  friends_title: "Пригласите друзей",
  friends_text: "Приглашайте друзей по своей ссылке и получайте {percent} с каждой их покупки.",
  friends_text_plain: "Приглашайте друзей по своей ссылке и получайте долю с каждой их покупки.",
  invite_link: "Ваша ссылка-приглашение",
  invite_share_text: "Создавайте изображения и видео с ИИ в NanoGen",
  invited: "Приглашено",
  earnings: "Заработано",
  withdraw: "Вывести заработок",

  withdrawals_title: "Выводы",
  withdraw_amount: "Сумма",
  withdraw_method: "Способ",
  withdraw_destination: "Куда отправить",
  withdraw_destination_hint: "Адрес кошелька, карта или счёт — как требует способ.",
  withdraw_submit: "Запросить вывод",
  withdraw_available: "Доступно: {amount}",
  withdraw_requested: "Вывод запрошен. Мы скоро его обработаем.",
  withdrawals_empty: "Выводов пока нет.",
  withdrawal_status_pending: "Ожидает",
  withdrawal_status_paid: "Выплачен",
  withdrawal_status_rejected: "Отклонён",

  param_aspect_ratio: "Соотношение сторон",
  param_size: "Размер",
  param_image_size: "Размер",
  param_resolution: "Разрешение",
  param_duration: "Длительность, с",
  param_num_images: "Количество изображений",
  param_style: "Стиль",
  param_quality: "Качество",
  param_seed: "Сид",
  withdraw_min: "Минимум {amount}",
  withdraw_on_hold: "Удержано для вывода: {amount}",
  withdraw_too_little: "Вывести можно от {amount}.",
  withdrawal_reason: "Причина: {reason}",
  withdrawal_reference: "Номер выплаты: {reference}",
  method_ton: "Кошелёк TON",
  method_usdt_ton: "USDT в сети TON",
  method_usdt_trc20: "USDT TRC-20",
  method_card: "Банковская карта",
  invite_no_link: "Ссылка-приглашение пока недоступна. Ваш код: {code}",
  payment_status_pending: "Ожидает оплаты",
  payment_status_paid: "Оплачен",
  payment_status_failed: "Не прошёл",
  payment_status_refunding: "Возврат в процессе",
  payment_status_refunded: "Возвращён",
  payment_status_cancelled: "Отменён",
  // Подписки за Stars (экран баланса)
  subscription_title: "Подписка",
  subscription_every: "{credits} каждые {days} дней",
  subscription_buy: "Подписаться на {title} за {stars} Stars в месяц",
  subscription_renews: "Продлится {date}",
  subscription_cancelled_until: "Отменена · действует до {date}",
  subscription_status_cancelled: "Отменена",
  subscription_cancel: "Отменить",
  subscription_cancel_label: "Отменить подписку {title}",
  subscription_cancel_confirm: "Нажмите ещё раз для отмены",
  subscription_cancelled: "Подписка отменена. Продлений больше не будет; она действует до {date}.",
  choice_square: "Квадрат",
  choice_portrait: "Портрет",
  choice_landscape: "Альбом",
  param_watermark: "Водяной знак",
  param_negative_prompt: "Негативный запрос",

  photos_title: "Фото",
  photos_count: "{count} из {max}",
  photo_take: "Камера",
  photo_pick: "Галерея",
  photo_label: "Фото {n}",
  photo_ready: "Загружено",
  photo_up: "Поднять фото {n}",
  photo_down: "Опустить фото {n}",
  photo_remove: "Убрать фото {n}",
  photos_too_many: "Эта модель берёт не больше {max}: остальные не добавлены.",
  photos_busy: "Дождитесь загрузки фото.",
  photos_needed: "Добавьте хотя бы {count}, чтобы создать.",
  file_too_large: "Файл слишком большой: не больше {size} МБ.",
  prompt_optional: "(необязательно)",
  price_error: "Не удалось узнать цену: {message}",
  price_changed: "Цена теперь {price}. Нажмите ещё раз, чтобы создать.",
  no_prompt: "Без запроса",
  animate: "Оживить",
  results_label: "Результаты",
  result_n: "{n} из {count}",
  result_show: "Показать результат {n}",

  // Free credits: the daily bonus and promo codes (screens/growth.js).
  bonus_title: "Ежедневный бонус",
  bonus_text: "{credits} бесплатно каждый день.",
  bonus_claim: "Получить {credits}",
  bonus_claimed: "+{credits} на балансе. До завтра!",
  bonus_next: "Следующий бонус через",
  promo_title: "Промокод",
  promo_placeholder: "Введите код",
  promo_apply: "Применить",
  promo_applied: "Промокод принят: +{credits}.",
  promo_required: "Сначала введите код.",
  promo_wait: "Слишком много попыток. Повторите через {time}.",
};

// Plural forms for counted units: Intl.PluralRules categories per language.
const units = {
  en: {
    credits: { one: "{n} credit", other: "{n} credits" },
    seconds: { one: "{n} second", other: "{n} seconds" },
    minutes: { one: "{n} minute", other: "{n} minutes" },
    stars: { one: "{n} Star", other: "{n} Stars" },
    photos: { one: "{n} photo", other: "{n} photos" },
  },
  ru: {
    credits: { one: "{n} кредит", few: "{n} кредита", many: "{n} кредитов", other: "{n} кредита" },
    seconds: { one: "{n} секунду", few: "{n} секунды", many: "{n} секунд", other: "{n} секунды" },
    minutes: { one: "{n} минуту", few: "{n} минуты", many: "{n} минут", other: "{n} минуты" },
    stars: { one: "{n} звезда", few: "{n} звезды", many: "{n} звёзд", other: "{n} звезды" },
    photos: { one: "{n} фото", other: "{n} фото" },
  },
};

export const catalogs = { en, ru };
export const pluralUnits = units;

let current = "en";

/** Our language (en or ru) for a Telegram language_code such as "ru" or "pt-br". */
export function languageFor(code) {
  const base = String(code || "").split("-")[0].toLowerCase();
  return base in catalogs ? base : "en";
}

export function setLanguage(code) {
  current = languageFor(code);
  document.documentElement.lang = current;
  return current;
}

export function language() {
  return current;
}

/** The text for `key` with {placeholders} filled in. */
export function t(key, vars = {}) {
  const text = catalogs[current][key] ?? catalogs.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

/** "5 credits" / "5 кредитов". */
export function plural(unit, n) {
  const forms = units[current][unit];
  const category = new Intl.PluralRules(current).select(n);
  const template = forms[category] ?? forms.other;
  return template.replace("{n}", formatNumber(n));
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}

export function formatDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A short date for lists: "Nov 22, 10:00", with the year only when it is not this one. */
export function formatShortDate(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const options = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  if (date.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
  return new Intl.DateTimeFormat(current, options).format(date);
}

/** "45 seconds" or "3 minutes" for a wait in seconds. */
export function formatWait(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  return s < 90 ? plural("seconds", s) : plural("minutes", Math.ceil(s / 60));
}
